import type { Descriptor } from '../core/descriptor.js';
import { isDigest, type Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import type { EdgeKind } from '../core/manifest.js';
import type { Platform } from '../core/platform.js';
import { BundleEntry } from './format.js';
import type { DbBlob, DbEdge, DbImage, DbManifest } from './manifest-db.js';
import { BLOB_KINDS, type BlobKind } from './manifest-db-schema.js';

// The rows of ferry/index.db as ferry's types, each column checked as it is
// read (an unsigned bundle's index is only as good as its maker): a bad value
// is refused with one line naming the column (bundleInvalid).

export type Row = Record<string, unknown>;
const EDGE_KINDS = new Set<string>(['manifest', 'config', 'layer', 'subject']);

export function bad(what: string, cause?: unknown): IntegrityError {
  return new IntegrityError(`${BundleEntry.indexDb}: ${what}`, { code: ErrorCode.bundleInvalid, subject: BundleEntry.indexDb, cause });
}
export function digestCol(row: Row, col: string): Digest {
  const v = row[col];
  if (!isDigest(v)) throw bad(`${col} '${String(v).slice(0, 80)}' is not a sha256 digest`);
  return v;
}
export function textCol(row: Row, col: string): string {
  const v = row[col];
  if (typeof v !== 'string') throw bad(`${col} is not text`);
  return v;
}
export function optText(row: Row, col: string): string | undefined {
  const v = row[col];
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${col} is not text`);
  return v;
}
export function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
export function sizeCol(row: Row, col: string): number {
  const v = row[col];
  if (!isSize(v)) throw bad(`${col} is not a size`);
  return v;
}

export function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export function toImage(r: Row): DbImage {
  return {
    name: textCol(r, 'name'),
    registry: textCol(r, 'registry'),
    repository: textCol(r, 'repository'),
    ...opt('tag', optText(r, 'tag')),
    digest: digestCol(r, 'digest'),
    mediaType: textCol(r, 'media_type'),
    size: sizeCol(r, 'size'),
  };
}

/** toImage over `[name, registry, repository, tag, digest, media_type, size]`: a row that fails a check goes through it. */
export function imageOfRaw(r: readonly unknown[]): DbImage {
  const name = r[0], registry = r[1], repository = r[2], tag = r[3], digest = r[4], mediaType = r[5], size = r[6];
  if (typeof name !== 'string' || typeof registry !== 'string' || typeof repository !== 'string' || !(tag === null || typeof tag === 'string') || !isDigest(digest) || typeof mediaType !== 'string' || !isSize(size)) {
    return toImage({ name, registry, repository, tag, digest, media_type: mediaType, size });
  }
  const image: DbImage = tag === null ? { name, registry, repository, digest, mediaType, size } : { name, registry, repository, tag, digest, mediaType, size };
  return image;
}

export function toBlob(r: Row, urls: Map<string, string[]>): DbBlob {
  const digest = digestCol(r, 'digest');
  const kind = textCol(r, 'kind');
  if (!(BLOB_KINDS as readonly string[]).includes(kind)) throw bad(`blob kind '${kind.slice(0, 40)}' is unknown`);
  const descriptor: Descriptor = { mediaType: textCol(r, 'media_type'), digest, size: sizeCol(r, 'size') };
  const u = urls.get(digest);
  if (u) descriptor.urls = [...u]; // the map is cached: callers get their own array
  return { descriptor, kind: kind as BlobKind, included: r.included === 1, position: sizeCol(r, 'position') };
}

/** toBlob over `[digest, kind, media_type, size, position, included]`, with its refusals in its order. */
export function blobOfRaw(r: unknown[], urls: Map<string, string[]>): DbBlob {
  // Indexed, not destructured: array destructuring runs the iterator protocol, slow in the cold code a CLI runs once.
  const digest = r[0], kind = r[1], mediaType = r[2], size = r[3], position = r[4];
  if (!isDigest(digest)) return toBlob({ digest }, urls);
  if (typeof kind !== 'string' || !(BLOB_KINDS as readonly string[]).includes(kind)) return toBlob({ digest, kind }, urls);
  if (typeof mediaType !== 'string' || !isSize(size) || !isSize(position)) return toBlob({ digest, kind, media_type: mediaType, size, position }, urls);
  const descriptor: Descriptor = { mediaType, digest, size };
  const u = urls.get(digest);
  if (u) descriptor.urls = [...u]; // the map is cached: callers get their own array
  return { descriptor, kind: kind as BlobKind, included: r[5] === 1, position };
}

export function toManifest(r: Row): DbManifest {
  const os = optText(r, 'os');
  const architecture = optText(r, 'architecture');
  let platform: Platform | undefined;
  if (os !== undefined && architecture !== undefined) {
    platform = { os, architecture, ...opt('variant', optText(r, 'variant')), ...opt('os.version', optText(r, 'os_version')) };
  }
  const subject = optText(r, 'subject');
  return {
    digest: digestCol(r, 'digest'),
    mediaType: textCol(r, 'media_type'),
    ...opt('artifactType', optText(r, 'artifact_type')),
    ...(subject !== undefined ? { subject: digestCol(r, 'subject') } : {}),
    ...(platform ? { platform } : {}),
  };
}

/**
 * The platform of `[digest, media_type, artifact_type, subject, os, architecture, variant, os_version]`
 * (undefined without os and architecture), with toManifest's refusals: a row that fails a check goes through it.
 */
export function platformOfRaw(r: readonly unknown[]): Platform | undefined {
  const digest = r[0], mediaType = r[1], artifactType = r[2], subject = r[3], os = r[4], architecture = r[5], variant = r[6], osVersion = r[7];
  const textOrNull = (v: unknown) => v === null || typeof v === 'string';
  if (!isDigest(digest) || typeof mediaType !== 'string' || !textOrNull(artifactType) || !(subject === null || isDigest(subject)) || !textOrNull(os) || !textOrNull(architecture) || !textOrNull(variant) || !textOrNull(osVersion)) {
    return toManifest({ digest, media_type: mediaType, artifact_type: artifactType, subject, os, architecture, variant, os_version: osVersion }).platform;
  }
  if (os === null || architecture === null) return undefined;
  const platform: Platform = { os: os as string, architecture: architecture as string };
  if (variant !== null) platform.variant = variant as string;
  if (osVersion !== null) platform['os.version'] = osVersion as string;
  return platform;
}

export function toEdge(r: Row): DbEdge {
  const kind = textCol(r, 'kind');
  if (!EDGE_KINDS.has(kind)) throw bad(`edge kind '${kind.slice(0, 40)}' is unknown`);
  return { parent: digestCol(r, 'parent'), position: sizeCol(r, 'position'), kind: kind as EdgeKind, child: digestCol(r, 'child') };
}
