import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError, InternalError } from '../core/errors.js';
import { verifyBytes, verifyStream } from '../core/hashing.js';
import { INDEX_DB_BASE_BYTES, INDEX_DB_BYTES_PER_ROW, INDEX_DB_IN_MEMORY_BYTES, MAX_INDEX_DB_BYTES, MAX_METADATA_BYTES } from '../core/limits.js';
import { parseSha256SumsFile, SUMS_LINE_BYTES } from './checksums.js';
import { EntryPolicy } from './entry-policy.js';
import { BundleEntry, MAX_SUMS_BYTES, OCI_LAYOUT_BYTES, SIGNATURE_BYTES, parseBundleJson, type BundleJson, type EntryDigest } from './format.js';
import { checkHeadConsistency } from './head-consistency.js';
import { indexJsonOf, parseIndexJson, type OciIndexJson } from './index-json.js';
import { ManifestDb } from './manifest-db.js';
import { checkSignature, type SignatureState, type TrustOptions } from './signature-check.js';
import type { HeadEntry, HeadTarReader } from './head-tar.js';

// Reads the head of a bundle — everything before the first blob — with every
// read capped and checked along the chain of trust: the signature before
// index.json is read, each head file against its digest in bundle.json, and
// index.db spooled to a private file and digest-checked before SQLite opens it.

export interface BundleHead {
  bundleJson: BundleJson;
  signature: SignatureState;
  /** The signer's key id (from bundle.json), or null for an unsigned bundle. */
  keyId: string | null;
  index: OciIndexJson;
  db: ManifestDb;
  /** Blob digests listed in ferry/SHA256SUMS, in tar order. */
  sums: Digest[];
  /** Bytes of tar up to the end of ferry/SHA256SUMS. */
  headBytes: number;
  /** The policy, still tracking names: the blob iterator continues with it. */
  policy: EntryPolicy;
}

/** The largest index.db a bundle promising these rows may carry (never over MAX_INDEX_DB_BYTES). */
function indexDbCap(rows: { blobs: number; images: number }): number {
  return Math.min(MAX_INDEX_DB_BYTES, INDEX_DB_BASE_BYTES + INDEX_DB_BYTES_PER_ROW * (rows.blobs + rows.images));
}

function bad(name: string, what: string): IntegrityError {
  return new IntegrityError(`${name}: ${what}`, { code: ErrorCode.bundleInvalid, subject: name });
}

/** The policy orders the head, so what an entry needs was read before it. */
function need<T>(value: T | undefined): T {
  if (value === undefined) throw new InternalError('bundle head read out of order');
  return value;
}

async function readEntry(tar: HeadTarReader, entry: HeadEntry, cap: number): Promise<Buffer> {
  const { name, size = 0 } = entry.header;
  if (size > cap) throw bad(name, `${size} bytes, over the ${cap}-byte limit`);
  try {
    // Exactly `size` bytes (≤ cap, refused above), or the bundle ends inside the entry.
    return await entry.bytes();
  } catch (err) {
    throw tar.translate(err);
  }
}

function expectSize(entry: HeadEntry, expected: EntryDigest): void {
  const { name, size = 0 } = entry.header;
  if (size !== expected.size) {
    throw new IntegrityError(`${name}: size mismatch: bundle.json says ${expected.size} bytes, the entry has ${size}`, {
      code: ErrorCode.sizeMismatch,
      subject: name,
      expected: String(expected.size),
      actual: String(size),
    });
  }
}

/** A head entry bundle.json vouches for: its size checked first, its bytes (capped) against the digest. */
async function readVouched(tar: HeadTarReader, entry: HeadEntry, subject: string, expected: EntryDigest, max: number): Promise<Buffer> {
  expectSize(entry, expected);
  const bytes = await readEntry(tar, entry, max);
  verifyBytes(bytes, expected, subject);
  return bytes;
}

export interface HeadOptions extends TrustOptions {
  /** Spool index.db to a file even when it is small enough to open from memory. */
  spoolIndexDb?: boolean;
}

/** `spoolDir` makes (once) the private directory a large index.db is spooled to. */
export async function readBundleHead(tar: HeadTarReader, trust: HeadOptions, spoolDir: () => Promise<string>): Promise<BundleHead> {
  const policy = new EntryPolicy();
  let bundleJson: BundleJson | undefined;
  let bundleJsonBytes: Buffer | undefined;
  let signature: Buffer | undefined;
  let state: SignatureState | undefined;
  let index: OciIndexJson | undefined;
  let db: ManifestDb | undefined;
  let sums: ReturnType<typeof parseSha256SumsFile> | undefined;
  let headBytes = 0;
  let indexFromBundleJson = false;
  try {
    while (!policy.headComplete) {
      const entry = await tar.next();
      if (!entry) throw new IntegrityError(`bundle ends before ${policy.nextRequired()}: it is truncated or not a ferry bundle`, { code: ErrorCode.bundleInvalid, subject: policy.nextRequired() });
      const checked = policy.check(entry.header);
      if (checked.kind !== 'head') throw bad(entry.header.name, 'is not a head entry'); // unreachable: the policy refuses it first
      // Past bundle.json (and its optional signature): the signature is settled before anything else is read.
      if (bundleJson && bundleJsonBytes && state === undefined && checked.name !== BundleEntry.signature) {
        state = checkSignature(
          { name: BundleEntry.bundleJson, sigName: BundleEntry.signature, bytes: bundleJsonBytes, signerKeyId: bundleJson.signer?.keyId, signature },
          trust,
        );
      }
      switch (checked.name) {
        case BundleEntry.ociLayout: {
          const bytes = await readEntry(tar, entry, 1024);
          if (!bytes.equals(OCI_LAYOUT_BYTES)) throw bad(checked.name, `is not ${OCI_LAYOUT_BYTES.toString()}`);
          break;
        }
        case BundleEntry.bundleJson:
          bundleJsonBytes = await readEntry(tar, entry, MAX_METADATA_BYTES);
          bundleJson = parseBundleJson(bundleJsonBytes);
          break;
        case BundleEntry.signature:
          signature = await readEntry(tar, entry, 1024);
          if (signature.length !== SIGNATURE_BYTES) throw bad(checked.name, `is ${signature.length} bytes, not a ${SIGNATURE_BYTES}-byte Ed25519 signature`);
          break;
        case BundleEntry.indexJson: {
          const doc = need(bundleJson);
          const bytes = await readVouched(tar, entry, checked.name, doc.entries['index.json'], MAX_METADATA_BYTES);
          // Written by ferry for these images: no parse; anything else (another writer, a forgery) is parsed and checked.
          const derived = indexJsonOf(bytes, doc.images);
          indexFromBundleJson = derived !== undefined;
          index = derived ?? parseIndexJson(bytes);
          break;
        }
        case BundleEntry.indexDb: {
          const doc = need(bundleJson);
          const expected = doc.entries['ferry/index.db'];
          const promise = { blobs: doc.blobs.count + doc.assumes.length, images: doc.images.length };
          const cap = indexDbCap(promise);
          if ((entry.header.size ?? 0) > cap) throw bad(checked.name, `${entry.header.size ?? 0} bytes, over the ${cap}-byte limit for a bundle of ${promise.blobs} blobs and ${promise.images} images`);
          if (!trust.spoolIndexDb && expected.size <= INDEX_DB_IN_MEMORY_BYTES) {
            db = ManifestDb.open(await readVouched(tar, entry, checked.name, expected, cap), promise);
            break;
          }
          expectSize(entry, expected);
          const path = join(await spoolDir(), 'index.db');
          // Spooled while hashing, opened only after the digest matched.
          await pipeline(entry.stream, verifyStream(expected, checked.name), createWriteStream(path, { mode: 0o600 })).catch((err: unknown) => {
            throw tar.translate(err);
          });
          db = ManifestDb.open(path, promise);
          break;
        }
        case BundleEntry.sums: {
          const promised = need(bundleJson);
          const lines = promised.blobs.count + (promised.releases?.length ?? 0);
          const bytes = await readVouched(tar, entry, checked.name, promised.entries['ferry/SHA256SUMS'], Math.min(MAX_SUMS_BYTES, lines * SUMS_LINE_BYTES));
          sums = parseSha256SumsFile(bytes);
          headBytes = (entry.header.byteOffset ?? 0) + Math.ceil(bytes.length / 512) * 512;
          break;
        }
      }
    }
    const { blobs, tools } = need(sums);
    const done = { bundleJson: need(bundleJson), index: need(index), db: need(db), sums: blobs };
    checkHeadConsistency({ ...done, toolSums: tools, indexFromBundleJson });
    return { ...done, signature: state ?? 'none', keyId: done.bundleJson.signer?.keyId ?? null, headBytes, policy };
  } catch (err) {
    db?.close();
    throw err;
  }
}
