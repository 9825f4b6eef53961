import { basename } from 'node:path';
import { parseBoundedJsonObject } from '../core/bounded-json.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { MAX_METADATA_BYTES } from '../core/limits.js';
import { BUNDLE_FORMAT, checkCreated } from './format.js';
import { MAX_VOLUMES } from './split-size.js';

// NAME.volumes.json: the signed list of a split bundle's volumes, with each
// one's size and sha256 (hashed while written), so a reader names the one
// damaged or missing stick. Written last: its presence means the set is complete.

export const VOLUMES_FORMAT = 'ferry.volumes.v1';
const HEX64 = /^[a-f0-9]{64}$/;

export interface VolumeInfo {
  /** File name relative to the sidecar's directory: `NAME.000`. */
  name: string;
  size: number;
  /** Lowercase hex sha256 of the volume's bytes. */
  sha256: string;
}

export interface VolumeSidecar {
  format: typeof VOLUMES_FORMAT;
  bundle: { format: typeof BUNDLE_FORMAT; id: string };
  created: string;
  /** The --split size: every volume but the last is exactly this long. */
  split: number;
  /** The whole tar: size and sha256 of the volumes concatenated. */
  size: number;
  sha256: string;
  signer: { algorithm: 'ed25519'; keyId: string } | null;
  volumes: VolumeInfo[];
}

export function sidecarPathFor(base: string): string {
  return `${base}${SIDECAR_SUFFIX}`;
}

export function volumeName(baseName: string, index: number): string {
  return `${baseName}.${String(index).padStart(3, '0')}`;
}

const SIDECAR_SUFFIX = '.volumes.json';

/** `/x/app.007` → `/x/app`; undefined for a path not named like a volume. */
export function baseOfVolumePath(path: string): string | undefined {
  return /^(.*)\.\d{3}$/.exec(path)?.[1];
}

/** A path named like part of a volume set (NAME.NNN or its NAME.volumes.json); opening it decides for sure. */
export function isVolumePath(path: string): boolean {
  return path.endsWith(SIDECAR_SUFFIX) || baseOfVolumePath(path) !== undefined;
}

/** `/x/app.volumes.json` → `app` */
export function baseNameOfSidecar(sidecarPath: string): string {
  return basename(sidecarPath).replace(/\.volumes\.json$/, '');
}

export function serializeSidecar(doc: VolumeSidecar): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and checks a sidecar: names must be BASE.000, BASE.001, … in order, sizes consistent with `split`. */
export function parseSidecar(bytes: Uint8Array, sidecarName: string, baseName: string): VolumeSidecar {
  const bad = (what: string) => new IntegrityError(`${sidecarName}: ${what}`, { code: ErrorCode.bundleInvalid, subject: sidecarName });
  const doc = parseBoundedJsonObject(bytes, { subject: sidecarName, context: 'not a volume list', maxBytes: MAX_METADATA_BYTES, code: ErrorCode.bundleInvalid });
  if (doc.format !== VOLUMES_FORMAT) throw bad(`format is not ${VOLUMES_FORMAT}`);
  const bundle = doc.bundle as Record<string, unknown> | null;
  if (typeof bundle !== 'object' || bundle === null || bundle.format !== BUNDLE_FORMAT || typeof bundle.id !== 'string' || bundle.id.length > 128) throw bad('bundle must name format and id');
  const created = checkCreated(doc.created, bad);
  if (!isSize(doc.split) || doc.split === 0 || !isSize(doc.size) || typeof doc.sha256 !== 'string' || !HEX64.test(doc.sha256)) {
    throw bad('created, split, size and sha256 are required');
  }
  let signer: VolumeSidecar['signer'] = null;
  const s = doc.signer as Record<string, unknown> | null;
  if (s !== null) {
    if (typeof s !== 'object' || s.algorithm !== 'ed25519' || typeof s.keyId !== 'string' || s.keyId.length > 128) throw bad('signer must be null or {algorithm, keyId}');
    signer = { algorithm: 'ed25519', keyId: s.keyId };
  }
  if (!Array.isArray(doc.volumes) || doc.volumes.length === 0) throw bad('lists no volumes');
  if (doc.volumes.length > MAX_VOLUMES) throw bad(`lists ${doc.volumes.length} volumes, over the limit of ${MAX_VOLUMES}`);
  const split = doc.split;
  let total = 0;
  const volumes = doc.volumes.map((v: unknown, i: number, all: unknown[]): VolumeInfo => {
    const r = v as Record<string, unknown>;
    const expectedName = volumeName(baseName, i);
    if (typeof r !== 'object' || r === null || r.name !== expectedName) throw bad(`volume ${i} must be named ${expectedName}`);
    if (!isSize(r.size) || typeof r.sha256 !== 'string' || !HEX64.test(r.sha256)) throw bad(`volume ${expectedName} needs size and sha256`);
    const last = i === all.length - 1;
    if ((!last && r.size !== split) || (last && (r.size === 0 || r.size > split))) throw bad(`volume ${expectedName} size ${r.size} does not fit split ${split}`);
    total += r.size;
    return { name: expectedName, size: r.size, sha256: r.sha256 };
  });
  if (total !== doc.size) throw bad(`volume sizes add up to ${total}, not ${doc.size}`);
  return {
    format: VOLUMES_FORMAT,
    bundle: { format: BUNDLE_FORMAT, id: bundle.id },
    created,
    split,
    size: doc.size,
    sha256: doc.sha256,
    signer,
    volumes,
  };
}
