import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { noEvents, type EventSink } from '../core/progress-events.js';
import { statOf, type BundleInput } from './bundle-source.js';
import { toolRanges } from './blob-locate.js';
import { blobTarRange, proveAcross, rangeJobs } from './blob-ranges.js';
import { checkStoredSummaries } from './image-summaries.js';
import { RangePool, type RangeJob } from './range-pool.js';
import { openBundle, type Bundle, type OpenBundleOptions } from './reader.js';
import type { SignatureState } from './signature-check.js';
import { shaProblem, volumeError, type VolumeStatus } from './volume-check.js';
import type { TarPiece, TarSpan } from './tar-span.js';
import { isVolumePath } from './volume-sidecar.js';

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

/**
 * Two ways to read every blob, and which one runs:
 * - byRanges: a bundle on disk laid out as ferry writes it, one file or a set of volumes
 *   (locateBlobs proves the framing): hashed by positional reads on every core (RangePool), a
 *   file's blobs each a job, a set's volumes hashed whole too (the volume list): several volumes
 *   each one job that reads the volume once for its own sha256 and those of the blobs inside it.
 *   `ferry verify`, `import --verify-first`.
 * - inOnePass: the tar through the one-pass reader: a stream, or a file another writer laid out
 *   (pax headers, other order): locateBlobs answers undefined.
 * The first pays: 299 MiB single file, `ferry verify` paired back to back, 7 runs each at load
 * 12-16 on 2 cores: CPU (user + sys) median 0.82 s by ranges against 1.46 s in one pass (stream
 * hops, tar parsing, garbage), wall median 3.4 s against 4.6 s. A set hashes its bytes twice
 * (volumes and blobs) but reads them once: docs/performance.md "Stop 35".
 */
export interface VerifyOptions extends OpenBundleOptions {
  /** Progress: the verify phase (its blobs, and the bytes it will hash), then `bytes` as they are hashed. */
  onEvent?: EventSink;
}

export async function verifyBundle(input: BundleInput, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const { onEvent, ...openOptions } = opts;
  // The hashing threads boot while the head is checked; a small file is hashed on the calling
  // thread alone (a worker costs more to boot than it would hash: HASH_ALONE_BYTES).
  // A stat with node:fs: fs/promises, loaded for it alone, cost a small verify ~4 M instructions.
  const stat = typeof input === 'string' ? statOf(input) : undefined;
  const file = stat?.isFile() ? stat : undefined;
  const poolFor = (size: number) => new RangePool({ mainThread: true, bytes: size, ...(onEvent ? { onEvent } : {}) });
  let pool = file && typeof input === 'string' && !isVolumePath(input) ? poolFor(file.size) : undefined;
  try {
    const bundle = await openBundle(input, { ...openOptions, checkVolumes: true });
    try {
      // What inspect shows from bundle.json alone must be what the graph gives (one walk, before any blob is read).
      checkStoredSummaries(bundle.bundleJson.images, bundle.db);
      // A volume set (or NAME.001 that is a plain bundle file after all) gets its threads now; a set's bytes are hashed twice.
      const span = bundle.tarSpan;
      if (!pool && span) pool = poolFor(bundle.volumes ? 2 * span.size : span.size);
      const emit = onEvent ?? noEvents;
      const read = (pool && (await byRanges(bundle, pool, emit))) || (await inOnePass(bundle, emit));
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
async function inOnePass(bundle: Bundle, emit: EventSink): Promise<Read> {
  let blobs = 0;
  let blobBytes = 0;
  const carried = bundle.db.blobs().filter((b) => b.included);
  const releases = bundle.bundleJson.releases ?? [];
  emit({ type: 'phase', phase: 'verify', items: carried.length, total: sizeOf(carried.map((b) => b.descriptor)) + sizeOf(releases) });
  emit({ type: 'bytes', bytes: sizeOf(releases) });
  try {
    // Left unread, each stream is drained and verified by the iterator before the next entry:
    // a pipeline of our own per blob cost an AbortController and a DOMException apiece
    // (~10% of a one-pass verify of 4,306 small blobs).
    for await (const blob of bundle.blobs()) {
      blobs += 1;
      blobBytes += blob.descriptor.size;
      emit({ type: 'bytes', bytes: blob.descriptor.size });
    }
  } catch (err) {
    throw await bundle.explain(err);
  }
  return { blobs, blobBytes, bytesRead: bundle.bytesRead() };
}

/**
 * Every blob by its byte range (locateBlobs proved the framing around them) and, for a set, every volume
 * whole against the volume list, all on the pool's threads; or undefined.
 */
async function byRanges(bundle: Bundle, pool: RangePool, emit: EventSink): Promise<Read | undefined> {
  const ranges = await bundle.locate();
  const span = bundle.tarSpan;
  if (!ranges || !span) return undefined;
  const tools = toolRanges(bundle).map((t) => ({ expected: t.release, start: t.start, subject: t.release.entry }));
  const { jobs: blobJobs, across } = rangeJobs(span, [...tools, ...ranges.map(blobTarRange)]);
  // Several volumes: each is one job, its own sha256 and those of the blobs inside it from one read (a blob
  // across a volume end is read again, alone), so a set larger than the page cache is read once; the volumes
  // keep the cores busy. One volume (at most 4 GiB under fat32): the volume and its blobs as jobs of their
  // own, on both cores, the page cache serving the second read (313.6 MB warm: 0.45-0.55 s against 0.65-0.69
  // s as one job). One file: its blobs. docs/performance.md "Stop 35".
  const several = (bundle.volumes?.sidecar.volumes.length ?? 0) > 1;
  const volumes = volumeJobs(bundle, span, several ? blobJobs : []);
  const jobs = several ? volumes : [...volumes, ...blobJobs];
  // Progress: the bytes the jobs read, as the pool's hashers hash them; a blob across a volume end once proved.
  emit({ type: 'phase', phase: 'verify', items: ranges.length, total: sizeOf([...jobs, ...across].map((j) => j.expected)) });
  const stop = new AbortController();
  const failed = (err: unknown): never => {
    stop.abort(err);
    throw err;
  };
  // The ranges are all that is left to check: the head's reader, index.db and its spool are let
  // go while the blobs hash, not after (from the last range to exit: 17 → 11 ms, median of 20
  // pairs at load 5 on 2 cores).
  const closing = bundle.close();
  const settled = await Promise.allSettled([pool.run(jobs, undefined, stop.signal).catch(failed), proveAcross(span, across, stop.signal, (r) => emit({ type: 'bytes', bytes: r.expected.size })).catch(failed), closing]);
  if (stop.signal.aborted) throw await volumeFailure(bundle, volumes, stop.signal.reason);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  const blobBytes = ranges.reduce((n, r) => n + r.blob.descriptor.size, 0);
  return { blobs: ranges.length, blobBytes, bytesRead: span.size };
}

/**
 * A set's volumes, each hashed whole against the volume list (named by its file name), with the blob jobs
 * inside it as its inner ranges; none for one file.
 */
function volumeJobs(bundle: Bundle, span: TarSpan, blobJobs: ReadonlyArray<RangeJob>): RangeJob[] {
  const listed = bundle.volumes?.sidecar.volumes ?? [];
  const inside = new Map<string, Array<NonNullable<RangeJob['inner']>[number]>>();
  for (const job of [...blobJobs].sort((a, b) => a.start - b.start)) {
    const list = inside.get(job.path) ?? [];
    list.push({ expected: job.expected, at: job.start, subject: job.subject });
    inside.set(job.path, list);
  }
  return listed.map((v, i) => {
    const path = (span.files[i] as TarPiece).path;
    return { expected: { digest: `sha256:${v.sha256}` as Digest, size: v.size }, path, start: 0, wholeFile: true, subject: v.name, inner: inside.get(path) ?? [] };
  });
}

/** The error that stopped a verify by ranges, said of its volume: a volume's own mismatch as the one pass says it, a blob's blamed on the volume holding it. */
async function volumeFailure(bundle: Bundle, volumes: readonly RangeJob[], err: unknown): Promise<unknown> {
  const listed = bundle.volumes?.sidecar.volumes ?? [];
  const index = err instanceof IntegrityError ? volumes.findIndex((j) => j.subject === err.subject) : -1;
  const v = listed[index];
  if (!v || !(err instanceof IntegrityError)) return bundle.explain(err);
  if (err.code === ErrorCode.sizeMismatch || !err.actual) return volumeError(v, `is damaged: not the ${v.size} bytes the volume list says`);
  return volumeError(v, shaProblem(listed, index, err.actual.slice('sha256:'.length)));
}

const sizeOf = (items: ReadonlyArray<{ size: number }>): number => items.reduce((n, i) => n + i.size, 0);

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
