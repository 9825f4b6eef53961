import { isDigest, type Digest } from './digest.js';
import { ErrorCode, IntegrityError } from './errors.js';
import type { MediaTypeName } from './media-types.js';
import type { Platform } from './platform.js';

/** OCI content descriptor: what a parent says about a child. */
export interface Descriptor {
  mediaType: MediaTypeName;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  data?: string;
}

/** The annotation OCI layouts use for a tag; skopeo reads it. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** Set by ferry on a referrer found under a tag (cosign `sha256-<hex>.sig`): the tag to re-apply on the far side. */
export const ANNOTATION_REFERRER_TAG = 'io.ferry.referrer.tag';
/** The annotation `ctr images import` reads for the image name. */
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';

function isRecordOfStrings(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

function isPlatform(value: unknown): value is Platform {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.os === 'string' && typeof p.architecture === 'string';
}

/** Validates an untrusted descriptor (from a manifest or an index.json); `where` names it in errors. */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  const bad = (what: string) =>
    new IntegrityError(`${where}: invalid descriptor: ${what}`, { code: ErrorCode.manifestInvalid, subject: where });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an object');
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType.length === 0 || d.mediaType.length > 255) throw bad('missing mediaType');
  if (!isDigest(d.digest)) throw bad(`digest '${String(d.digest).slice(0, 80)}' is not sha256:<64 hex>`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(`size '${String(d.size)}' is not a non-negative integer`);
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls !== undefined) {
    if (!Array.isArray(d.urls) || !d.urls.every((u) => typeof u === 'string' && /^https?:\/\//i.test(u))) throw bad('urls must be http(s) URLs');
    out.urls = d.urls as string[];
  }
  if (d.annotations !== undefined) {
    if (!isRecordOfStrings(d.annotations)) throw bad('annotations must map strings to strings');
    out.annotations = d.annotations;
  }
  if (d.platform !== undefined) {
    if (!isPlatform(d.platform)) throw bad('platform needs os and architecture');
    out.platform = d.platform;
  }
  if (d.artifactType !== undefined) {
    if (typeof d.artifactType !== 'string') throw bad('artifactType must be a string');
    out.artifactType = d.artifactType;
  }
  if (typeof d.data === 'string') out.data = d.data;
  return out;
}
