import { digestFromHex, digestHex, isDigest, type Digest } from '../core/digest.js';
import { parseBoundedJsonObject } from '../core/bounded-json.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { MAX_IMAGE_NAME_CHARS, MAX_MEDIA_TYPE_CHARS, MAX_METADATA_BYTES } from '../core/limits.js';
import { MAX_TAR_MTIME } from './tar-writer.js';

// The ferry.bundle.v1 contract (design §4): entry names, their order, and the
// bundle.json document that anchors the chain of trust
// signature → bundle.json → (index.json, index.db, SHA256SUMS) → every blob.

export const BUNDLE_FORMAT = 'ferry.bundle.v1';
/** Bumped only with a change to design §4. */
export const BUNDLE_FORMAT_VERSION = 1;

export const BundleEntry = {
  ociLayout: 'oci-layout',
  bundleJson: 'ferry/bundle.json',
  signature: 'ferry/bundle.json.sig',
  indexJson: 'index.json',
  indexDb: 'ferry/index.db',
  sums: 'ferry/SHA256SUMS',
} as const;
export type HeadEntryName = (typeof BundleEntry)[keyof typeof BundleEntry];

/** The head, in the only order a reader accepts; the signature is the one optional entry. */
export const HEAD_ORDER: readonly HeadEntryName[] = [
  BundleEntry.ociLayout,
  BundleEntry.bundleJson,
  BundleEntry.signature,
  BundleEntry.indexJson,
  BundleEntry.indexDb,
  BundleEntry.sums,
];

/** The exact bytes of `oci-layout`; a reader accepts nothing else (it is outside the signed chain). */
export const OCI_LAYOUT_BYTES = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
export const SIGNATURE_BYTES = 64;
/** SHA256SUMS holds 143 bytes per blob: 32 MiB is ~230 000 blobs. */
export const MAX_SUMS_BYTES = 32 * 1024 * 1024;

/**
 * A ferry release (src/release builds them): `ferry-<version>-<os>-<arch>.tar.gz`,
 * os and arch as Node.js names them (linux-x64, linux-arm64, win32-x64).
 */
export const RELEASE_FILE = /^ferry-([0-9][0-9A-Za-z.+-]{0,47})-([a-z0-9]{1,16})-([a-z0-9_]{1,16})\.tar\.gz$/;
/** Where a bundle carries releases: right after the head, before the first blob (so volume 0 holds them). */
export const TOOL_PREFIX = 'ferry/tool/';

export interface ReleaseName {
  version: string;
  os: string;
  arch: string;
}

/** version, os and arch of a release file name (no directory), or undefined. */
export function parseReleaseFileName(file: string): ReleaseName | undefined {
  const m = RELEASE_FILE.exec(file);
  return m ? { version: m[1] as string, os: m[2] as string, arch: m[3] as string } : undefined;
}

export function releaseFileName({ version, os, arch }: ReleaseName): string {
  return `ferry-${version}-${os}-${arch}.tar.gz`;
}

/** True for `ferry/tool/<release file>`: the only entries besides the head and the blobs. */
export function isToolEntry(name: string): boolean {
  return name.startsWith(TOOL_PREFIX) && RELEASE_FILE.test(name.slice(TOOL_PREFIX.length));
}

const BLOB_PREFIX = 'blobs/sha256/';
const BLOB_NAME = /^blobs\/sha256\/([a-f0-9]{64})$/;

export function blobEntryName(digest: Digest): string {
  return `${BLOB_PREFIX}${digestHex(digest)}`;
}

/** The digest a blob entry name claims, or undefined for any other name. */
export function digestOfBlobEntry(name: string): Digest | undefined {
  const m = BLOB_NAME.exec(name);
  return m ? digestFromHex(m[1] as string) : undefined;
}

export interface EntryDigest {
  digest: Digest;
  size: number;
}

export interface BundleImageSummary {
  /** Full reference, e.g. `registry.example/acme/api:1.4.3`. */
  name: string;
  digest: Digest;
  mediaType: string;
  size: number;
  /** `os/arch[/variant]` of every platform manifest under the root. */
  platforms: string[];
  /** What inspect shows per image, summed once by the writer; absent in bundles before it (readers walk index.db's edges then). */
  totals?: ImageTotals;
  /** Exported with a signature policy (`--require-signed-by`): the publisher's signature that was accepted. Absent otherwise, and in older bundles. */
  upstreamSignature?: UpstreamSignature;
}

/** The blobs under an image's root (shared ones counted for each image that has them). */
export interface ImageTotals {
  blobs: number;
  bytes: number;
  /** Of `bytes`, what a delta bundle leaves out. */
  assumedBytes: number;
}

/** Which trusted key verified an image's upstream (cosign) signature at export. */
export interface UpstreamSignature {
  /** `sha256:` + 16 hex of the SPKI DER digest of the publisher's public key (as `signer.keyId`). */
  keyId: string;
  /** `cosign-sig` (the `sha256-<hex>.sig` layout) or `sigstore-bundle` (an OCI 1.1 referrer). */
  format: string;
  /** The manifest carrying the signature, carried in the bundle as a referrer of the image. */
  signature: Digest;
  /** The identity the signature names (`critical.identity.docker-reference`), when it names one. */
  signedIdentity?: string;
}

/** A blob of the graph that a delta bundle leaves out because the target already holds it. */
export interface AssumedBlob {
  digest: Digest;
  size: number;
  mediaType: string;
}

/** A ferry release the bundle carries as `ferry/tool/…` (bundle.json `releases`). */
export interface BundleRelease extends ReleaseName {
  /** The tar entry: `ferry/tool/ferry-<version>-<os>-<arch>.tar.gz`. */
  entry: string;
  digest: Digest;
  size: number;
  /** Highest symbol version its binaries need, per prefix (`{"GLIBC": "2.34"}`); empty off Linux. */
  requires: Record<string, string>;
}

export interface BundleJson {
  format: typeof BUNDLE_FORMAT;
  /** Content id: the same content and creation time give the same id. */
  id: string;
  /** ISO 8601, whole seconds; also the mtime of every tar entry. */
  created: string;
  tool: { name: 'ferry'; version: string };
  signer: { algorithm: 'ed25519'; keyId: string } | null;
  entries: {
    'index.json': EntryDigest;
    'ferry/index.db': EntryDigest;
    'ferry/SHA256SUMS': EntryDigest;
  };
  /** Blobs carried in the tar (assumed ones excluded). */
  blobs: { count: number; bytes: number };
  images: BundleImageSummary[];
  /** Empty unless this is a delta bundle. */
  assumes: AssumedBlob[];
  /** Present only when the bundle carries ferry itself (`ferry export --with-ferry`), in tar order. */
  releases?: BundleRelease[];
}

/** Stable bytes: fixed key order (object literals), two-space indent, trailing newline. */
export function serializeBundleJson(doc: BundleJson): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

function invalid(what: string): IntegrityError {
  return new IntegrityError(`${BundleEntry.bundleJson}: ${what}`, { code: ErrorCode.bundleInvalid, subject: BundleEntry.bundleJson });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function entryDigest(v: unknown, name: string): EntryDigest {
  if (!isRecord(v) || !isDigest(v.digest) || !isSize(v.size)) throw invalid(`entries['${name}'] needs a sha256 digest and a size`);
  return { digest: v.digest, size: v.size };
}

function str(v: unknown, what: string, max = 4096): string {
  if (typeof v !== 'string' || v.length === 0) throw invalid(`${what} must be a non-empty string`);
  if (v.length > max) throw invalid(`${what} is ${v.length} characters, over the ${max}-character limit`);
  return v;
}

const CREATED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * A `created` field (bundle.json, the volume list): ISO 8601 UTC in whole
 * seconds, within what a ustar mtime holds (1970-01-01 to 2038-01-19), since
 * every tar entry carries it as its mtime.
 */
export function checkCreated(v: unknown, invalid: (what: string) => IntegrityError): string {
  if (typeof v !== 'string' || !CREATED.test(v) || Number.isNaN(Date.parse(v))) {
    throw invalid(`created '${String(v).slice(0, 64)}' is not a time like 2024-01-01T00:00:00Z (UTC, whole seconds)`);
  }
  const when = Date.parse(v);
  if (when < 0 || when > MAX_TAR_MTIME.getTime()) {
    throw invalid(`created '${v}' is outside 1970-01-01T00:00:00Z..${MAX_TAR_MTIME.toISOString().replace('.000Z', 'Z')}, the range of a tar mtime`);
  }
  return v;
}


function imageTotals(v: unknown, where: string): ImageTotals {
  if (!isRecord(v) || !isSize(v.blobs) || !isSize(v.bytes) || !isSize(v.assumedBytes) || v.assumedBytes > v.bytes) throw invalid(`${where} is malformed`);
  return { blobs: v.blobs, bytes: v.bytes, assumedBytes: v.assumedBytes };
}

function upstreamSignature(v: unknown, where: string): UpstreamSignature {
  if (!isRecord(v) || !isDigest(v.signature)) throw invalid(`${where} is malformed`);
  const out: UpstreamSignature = { keyId: str(v.keyId, `${where}.keyId`, 128), format: str(v.format, `${where}.format`, 64), signature: v.signature };
  if (v.signedIdentity !== undefined) out.signedIdentity = str(v.signedIdentity, `${where}.signedIdentity`, 512);
  return out;
}

/** Parses and validates untrusted bundle.json bytes (size and nesting bounded here too). */
export function parseBundleJson(bytes: Uint8Array): BundleJson {
  const doc = parseBoundedJsonObject(bytes, { subject: BundleEntry.bundleJson, maxBytes: MAX_METADATA_BYTES, code: ErrorCode.bundleInvalid });
  if (doc.format !== BUNDLE_FORMAT) throw otherFormat(doc);
  const id = str(doc.id, 'id', 128);
  const created = checkCreated(doc.created, invalid);
  if (!isRecord(doc.tool) || doc.tool.name !== 'ferry') throw invalid("tool.name must be 'ferry'");
  const toolVersion = str(doc.tool.version, 'tool.version', 64);
  let signer: BundleJson['signer'] = null;
  if (doc.signer !== null) {
    if (!isRecord(doc.signer) || doc.signer.algorithm !== 'ed25519') throw invalid("signer must be null or {algorithm: 'ed25519', keyId}");
    signer = { algorithm: 'ed25519', keyId: str(doc.signer.keyId, 'signer.keyId', 128) };
  }
  if (!isRecord(doc.entries)) throw invalid('entries missing');
  const entries = {
    'index.json': entryDigest(doc.entries['index.json'], 'index.json'),
    'ferry/index.db': entryDigest(doc.entries['ferry/index.db'], 'ferry/index.db'),
    'ferry/SHA256SUMS': entryDigest(doc.entries['ferry/SHA256SUMS'], 'ferry/SHA256SUMS'),
  };
  if (!isRecord(doc.blobs) || !isSize(doc.blobs.count) || !isSize(doc.blobs.bytes)) throw invalid('blobs needs count and bytes');
  if (!Array.isArray(doc.images)) throw invalid('images must be an array');
  const images = doc.images.map((v, i): BundleImageSummary => {
    if (!isRecord(v) || !isDigest(v.digest) || !isSize(v.size) || !Array.isArray(v.platforms)) throw invalid(`images[${i}] is malformed`);
    const image: BundleImageSummary = {
      name: str(v.name, `images[${i}].name`, MAX_IMAGE_NAME_CHARS),
      digest: v.digest,
      mediaType: str(v.mediaType, `images[${i}].mediaType`, MAX_MEDIA_TYPE_CHARS),
      size: v.size,
      platforms: v.platforms.map((p) => str(p, `images[${i}].platforms`, 128)),
    };
    if (v.totals !== undefined) image.totals = imageTotals(v.totals, `images[${i}].totals`);
    if (v.upstreamSignature !== undefined) image.upstreamSignature = upstreamSignature(v.upstreamSignature, `images[${i}].upstreamSignature`);
    return image;
  });
  if (!Array.isArray(doc.assumes)) throw invalid('assumes must be an array');
  const assumes = doc.assumes.map((v, i): AssumedBlob => {
    if (!isRecord(v) || !isDigest(v.digest) || !isSize(v.size)) throw invalid(`assumes[${i}] is malformed`);
    return { digest: v.digest, size: v.size, mediaType: str(v.mediaType, `assumes[${i}].mediaType`, MAX_MEDIA_TYPE_CHARS) };
  });
  return {
    format: BUNDLE_FORMAT,
    id,
    created,
    tool: { name: 'ferry', version: toolVersion },
    signer,
    entries,
    blobs: { count: doc.blobs.count, bytes: doc.blobs.bytes },
    images,
    assumes,
    ...(doc.releases === undefined ? {} : { releases: parseReleases(doc.releases) }),
  };
}

function parseReleases(v: unknown): BundleRelease[] {
  if (!Array.isArray(v) || v.length > 16) throw invalid('releases must be an array of at most 16');
  const seen = new Set<string>();
  return v.map((r, i): BundleRelease => {
    const entry = isRecord(r) && typeof r.entry === 'string' ? r.entry : '';
    const name = isToolEntry(entry) ? parseReleaseFileName(entry.slice(TOOL_PREFIX.length)) : undefined;
    if (!isRecord(r) || !name || !isDigest(r.digest) || !isSize(r.size) || !isRecord(r.requires)) throw invalid(`releases[${i}] is malformed`);
    if (r.version !== name.version || r.os !== name.os || r.arch !== name.arch) throw invalid(`releases[${i}]: version, os and arch must match ${entry}`);
    if (seen.has(entry)) throw invalid(`releases[${i}]: ${entry} is listed twice`);
    seen.add(entry);
    const requires: Record<string, string> = {};
    for (const [k, want] of Object.entries(r.requires)) requires[str(k, `releases[${i}].requires`, 32)] = str(want, `releases[${i}].requires.${k}`, 32);
    return { entry, ...name, digest: r.digest, size: r.size, requires };
  });
}

/**
 * Another format: one line that says which format this bundle needs and, when it
 * carries a ferry that reads it, where (a later format keeps `format` and
 * `releases` in bundle.json, the second entry, for exactly this message).
 */
function otherFormat(doc: Record<string, unknown>): IntegrityError {
  const format = String(doc.format).slice(0, 60);
  const version = /^ferry\.bundle\.v(\d{1,4})$/.exec(format);
  const newer = version !== null && Number(version[1]) > BUNDLE_FORMAT_VERSION;
  const written = isRecord(doc.tool) ? doc.tool.version : undefined;
  const writer = typeof written === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(written) ? written : undefined;
  const carried = Array.isArray(doc.releases)
    ? doc.releases.flatMap((r) => (isRecord(r) && typeof r.entry === 'string' && isToolEntry(r.entry) ? [r.entry] : []))
    : [];
  const message = newer
    ? `${BundleEntry.bundleJson}: this bundle is ${format}${writer ? ` (written by ferry ${writer})` : ''}; this ferry reads ${BUNDLE_FORMAT} only`
    : `${BundleEntry.bundleJson}: format '${format}' is not ${BUNDLE_FORMAT}`;
  let hint = newer ? `use a ferry that reads ${format}${writer ? ` (ferry ${writer} or later)` : ''}` : 'this bundle was written by another tool or a newer ferry: upgrade ferry';
  if (newer && carried.length > 0) hint += `: the bundle carries it as ${carried.join(', ')} — take it out and check it as docs/far-side.md shows`;
  return new IntegrityError(message, { code: ErrorCode.bundleInvalid, subject: BundleEntry.bundleJson, hint });
}
