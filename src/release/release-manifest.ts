import { ErrorCode, IntegrityError } from '../core/errors.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// What a release says about itself, in two files at the top of `ferry/`:
// RELEASE.json (version, platform, the Node.js it carries, the build's
// SOURCE_DATE_EPOCH, what its binaries need of the machine, and every file
// with its mode, size and sha256) and SHA256SUMS (the same files plus
// RELEASE.json, for `cd ferry && sha256sum -c SHA256SUMS`). Both are
// deterministic: the same files give the same bytes, which is what lets an
// unpacked release pack itself again, byte for byte (running-release.ts).

export const RELEASE_FORMAT = 'ferry.release.v1';
export const MANIFEST_PATH = 'RELEASE.json';
export const SUMS_PATH = 'SHA256SUMS';

export interface ReleaseFileRecord {
  /** Below `ferry/`, '/'-separated. */
  path: string;
  mode: '0755' | '0644';
  size: number;
  sha256: string;
  /** For ELF binaries: the highest symbol version needed per prefix (`{"GLIBC": "2.28"}`). */
  requires?: Record<string, string>;
}

export interface ReleaseManifest {
  format: typeof RELEASE_FORMAT;
  name: 'ferry';
  version: string;
  os: string;
  arch: string;
  /** The Node.js version carried (`v20.20.2`). */
  node: string;
  /** The git commit built (`-dirty` when the tree had changes), or null outside git. */
  commit: string | null;
  /** Every tar entry's mtime, seconds. */
  sourceDateEpoch: number;
  /** The highest of every file's `requires`: the floor of the machine it runs on. */
  requires: Record<string, string>;
  files: ReleaseFileRecord[];
}

export function serializeManifest(m: ReleaseManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

function bad(what: string): IntegrityError {
  return new IntegrityError(`${MANIFEST_PATH}: ${what}`, { code: ErrorCode.bundleInvalid, subject: MANIFEST_PATH });
}

const PATH = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[\x21-\x7e]+$/;

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Parses RELEASE.json; the bytes must be exactly what serializeManifest gives for what they hold. */
export function parseManifest(bytes: Uint8Array): ReleaseManifest {
  let doc: Partial<ReleaseManifest>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<ReleaseManifest>;
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (doc.format !== RELEASE_FORMAT || doc.name !== 'ferry') throw bad(`format is not ${RELEASE_FORMAT}`);
  for (const k of ['version', 'os', 'arch', 'node'] as const) if (typeof doc[k] !== 'string' || !/^[0-9A-Za-z._+-]{1,64}$/.test(doc[k])) throw bad(`${k} is malformed`);
  if (doc.commit !== null && typeof doc.commit !== 'string') throw bad('commit is malformed');
  if (!Number.isSafeInteger(doc.sourceDateEpoch) || (doc.sourceDateEpoch as number) < 0) throw bad('sourceDateEpoch is malformed');
  if (!isStringRecord(doc.requires) || !Array.isArray(doc.files)) throw bad('requires or files is malformed');
  for (const f of doc.files) {
    if (typeof f.path !== 'string' || !PATH.test(f.path) || (f.mode !== '0755' && f.mode !== '0644') || !Number.isSafeInteger(f.size) || !/^[a-f0-9]{64}$/.test(f.sha256)) {
      throw bad(`file ${JSON.stringify(f.path).slice(0, 120)} is malformed`);
    }
    if (f.requires !== undefined && !isStringRecord(f.requires)) throw bad(`file ${f.path}: requires is malformed`);
  }
  const manifest = doc as ReleaseManifest;
  if (!serializeManifest(manifest).equals(Buffer.from(bytes))) throw bad('is not in the form ferry writes (keys, order or spacing differ)');
  return manifest;
}

/** `<sha256>  <path>` for every file and RELEASE.json, sorted by path. */
export function formatReleaseSums(files: ReadonlyArray<{ path: string; sha256: string }>): Buffer {
  const sorted = [...files].sort(byCodeUnits((f) => f.path));
  return Buffer.from(sorted.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
}
