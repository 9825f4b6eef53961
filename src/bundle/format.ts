import { digestFromHex, digestHex, isDigest, type Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';

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
  /** Exported with a signature policy (`--require-signed-by`): the publisher's signature that was accepted. Absent otherwise, and in older bundles. */
  upstreamSignature?: UpstreamSignature;
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
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalid(`${what} must be a non-empty string`);
  return v;
}

function upstreamSignature(v: unknown, where: string): UpstreamSignature {
  if (!isRecord(v) || !isDigest(v.signature)) throw invalid(`${where} is malformed`);
  const out: UpstreamSignature = { keyId: str(v.keyId, `${where}.keyId`, 128), format: str(v.format, `${where}.format`, 64), signature: v.signature };
  if (v.signedIdentity !== undefined) out.signedIdentity = str(v.signedIdentity, `${where}.signedIdentity`, 512);
  return out;
}

/** Parses and validates untrusted bundle.json bytes (already under MAX_METADATA_BYTES). */
export function parseBundleJson(bytes: Uint8Array): BundleJson {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid(`not JSON (${(err as Error).message})`);
  }
  if (!isRecord(doc)) throw invalid('not a JSON object');
  if (doc.format !== BUNDLE_FORMAT) {
    throw new IntegrityError(`${BundleEntry.bundleJson}: format '${String(doc.format).slice(0, 60)}' is not ${BUNDLE_FORMAT}`, {
      code: ErrorCode.bundleInvalid,
      subject: BundleEntry.bundleJson,
      hint: 'this bundle was written by another tool or a newer ferry: upgrade ferry',
    });
  }
  const id = str(doc.id, 'id', 128);
  const created = str(doc.created, 'created', 64);
  if (Number.isNaN(Date.parse(created))) throw invalid(`created '${created}' is not a date`);
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
      name: str(v.name, `images[${i}].name`, 512),
      digest: v.digest,
      mediaType: str(v.mediaType, `images[${i}].mediaType`, 255),
      size: v.size,
      platforms: v.platforms.map((p) => str(p, `images[${i}].platforms`, 128)),
    };
    if (v.upstreamSignature !== undefined) image.upstreamSignature = upstreamSignature(v.upstreamSignature, `images[${i}].upstreamSignature`);
    return image;
  });
  if (!Array.isArray(doc.assumes)) throw invalid('assumes must be an array');
  const assumes = doc.assumes.map((v, i): AssumedBlob => {
    if (!isRecord(v) || !isDigest(v.digest) || !isSize(v.size)) throw invalid(`assumes[${i}] is malformed`);
    return { digest: v.digest, size: v.size, mediaType: str(v.mediaType, `assumes[${i}].mediaType`, 255) };
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
  };
}
