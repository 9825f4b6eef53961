import { stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BundleInput } from './bundle-source.js';
import { locateBlobs, toolRanges } from './blob-ranges.js';
import { RangePool } from './range-pool.js';
import { openBundle, type Bundle, type OpenBundleOptions } from './reader.js';
import type { SignatureState } from './signature-check.js';
import type { VolumeStatus } from './volume-check.js';

// `ferry verify`: read every byte of a bundle (or every volume) through the
// same reader import uses, and report what was proven. The first problem
// throws one IntegrityError naming the entry or the volume.

export interface VerifyReport {
  source: string;
  /** Every byte of the bundle was read and proven (a check of the volumes in hand alone is not: verify-in-hand.ts). */
  complete: true;
  id: string;
  created: string;
  signature: SignatureState;
  keyId: string | null;
  images: number;
  blobs: number;
  /** Bytes of blob content verified. */
  blobBytes: number;
  /** Blobs a delta bundle left out (not checked: the target holds them). */
  assumed: number;
  /** Bytes of tar read. */
  bytesRead: number;
  /** The ferry releases the bundle carries (ferry/tool/…), each verified against bundle.json. */
  releases: Array<{ entry: string; digest: string; size: number }>;
  volumes?: { list: VolumeStatus[]; signature: SignatureState };
}

const discard = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

/** Bundles smaller than this are hashed on the calling thread only (sha256 of 8 MiB: ~20 ms; a worker's boot: ~30 ms of CPU). */
const ALONE_BYTES = 8 * 1024 * 1024;

export async function verifyBundle(input: BundleInput, opts: OpenBundleOptions = {}): Promise<VerifyReport> {
  // A single file is hashed by ranges on every core; the threads boot while the head is checked.
  // A small one on the calling thread alone: a worker costs more to boot than it would hash.
  const small = typeof input === 'string' && (await stat(input).then((s) => s.isFile() && s.size < ALONE_BYTES, () => false));
  const pool = typeof input === 'string' ? new RangePool({ mainThread: true, ...(small ? { threads: 1 } : {}) }) : undefined;
  try {
    const bundle = await openBundle(input, { ...opts, checkVolumes: true });
    try {
      const read = (pool && typeof input === 'string' && (await byRanges(input, bundle, pool))) || (await inOnePass(bundle));
      return report(bundle, read);
    } finally {
      await bundle.close();
    }
  } finally {
    void pool?.close();
  }
}

interface Read {
  blobs: number;
  blobBytes: number;
  bytesRead: number;
}

/** Every blob through the one-pass tar reader (volumes, streams, files ferry did not lay out). */
async function inOnePass(bundle: Bundle): Promise<Read> {
  let blobs = 0;
  let blobBytes = 0;
  try {
    for await (const blob of bundle.blobs()) {
      await pipeline(blob.stream, discard());
      blobs += 1;
      blobBytes += blob.descriptor.size;
    }
  } catch (err) {
    throw await bundle.explain(err);
  }
  return { blobs, blobBytes, bytesRead: bundle.bytesRead() };
}

/** Every blob by its byte range (locateBlobs proved the framing around them), or undefined. */
async function byRanges(path: string, bundle: Bundle, pool: RangePool): Promise<Read | undefined> {
  const ranges = await locateBlobs(path, bundle);
  if (!ranges) return undefined;
  const tools = toolRanges(bundle).map((t) => ({ expected: t.release, path, start: t.start, subject: t.release.entry }));
  await pool.run([...tools, ...ranges.map((r) => ({ expected: r.blob.descriptor, path, start: r.start, subject: r.entry }))]);
  const blobBytes = ranges.reduce((n, r) => n + r.blob.descriptor.size, 0);
  return { blobs: ranges.length, blobBytes, bytesRead: (await stat(path)).size };
}

function report(bundle: Bundle, { blobs, blobBytes, bytesRead }: Read): VerifyReport {
  const report: VerifyReport = {
    source: bundle.source,
    complete: true,
    id: bundle.bundleJson.id,
    created: bundle.bundleJson.created,
    signature: bundle.signature,
    keyId: bundle.keyId,
    images: bundle.bundleJson.images.length,
    blobs,
    blobBytes,
    assumed: bundle.bundleJson.assumes.length,
    bytesRead,
    releases: (bundle.bundleJson.releases ?? []).map((r) => ({ entry: r.entry, digest: r.digest, size: r.size })),
  };
  if (bundle.volumes) report.volumes = { list: bundle.volumes.sidecar.volumes.map((v) => ({ ...v, status: 'checked' as const })), signature: bundle.volumes.signature };
  return report;
}
