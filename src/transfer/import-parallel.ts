import { DEFAULT_CONCURRENCY, MAX_MANIFEST_BYTES } from '../core/limits.js';
import { openBlobRange, openRawRange, proveBlobRanges, readSmallRange, type BlobRange } from '../bundle/index.js';
import { blobPusher, emptyPassResult, type BlobPassOptions, type BlobPassResult } from './import-blobs.js';
import { inLanes } from './lanes.js';

// Import's blob pass over a bundle on disk (one file, or a set's volumes), several
// blobs at once: each one read from its own byte range of the tar
// (bundle/blob-locate.ts checks the layout first) and verified while it flows to the registry, `concurrency` at a
// time, largest first with the small ones early (uploadOrder). A registry takes parallel uploads much
// faster than one stream (bench: docker-registry ~550 MiB/s for 4 streams
// against ~320 for one) and the three round trips of each blob overlap. Blobs
// the target holds are still read and verified, as the one-pass reader does,
// beside the uploads by batched positional reads (proveBlobRanges).
// A stream, or a tar not laid out as ferry writes it, goes through pushBlobsFromBundle instead
// (import.ts says when, and what the ranges were measured to gain).

/**
 * Uploads of at most this many bytes are bound by their round trips (a POST and a PUT each), not by
 * bytes: at a few hundred MiB/s per lane a MiB moves in about one round trip.
 */
export const SMALL_UPLOAD_BYTES = 1024 * 1024;

/**
 * The pass's queue: the `lanes` largest uploads first, so the longest start first; then the small ones
 * (configs, tiny layers), which the first lanes to free up carry beside the large uploads still under
 * way; then the other large ones, largest first, so the tail is the shortest of them; then manifests and
 * blobs the target holds (read and proven, nothing sent), in tar order. In tar order the bench's 12
 * configs (a POST and a PUT each) went before the first layer, and its largest layer could start last;
 * queued after every layer they were the import's tail: 24 round trips on the lanes the last layers
 * freed, nothing else moving (0.3 s at load 9).
 */
export function uploadOrder(ranges: readonly BlobRange[], missing: ReadonlyMap<string, readonly string[]>, lanes: number): BlobRange[] {
  const sent = (range: BlobRange): number => (range.blob.kind !== 'manifest' && missing.get(range.blob.descriptor.digest)?.length ? range.blob.descriptor.size : -1);
  // Array.prototype.sort is stable: equal sizes and the unsent keep their tar order.
  const sorted = [...ranges].sort((a, b) => sent(b) - sent(a));
  const large = sorted.filter((r) => sent(r) > SMALL_UPLOAD_BYTES);
  const small = sorted.filter((r) => sent(r) >= 0 && sent(r) <= SMALL_UPLOAD_BYTES);
  const unsent = sorted.filter((r) => sent(r) < 0);
  return [...large.slice(0, lanes), ...small, ...large.slice(lanes), ...unsent];
}

/** The blob pass by ranges, or undefined when the bundle cannot be read that way. */
export async function pushBlobsByRange(options: BlobPassOptions): Promise<BlobPassResult | undefined> {
  const ranges = await options.bundle.locate();
  const tar = options.bundle.tarSpan;
  if (!ranges || !tar) return undefined;
  const result = emptyPassResult();
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const controller = new AbortController();
  // A mount that failed behind the lanes stops them as an upload's failure does.
  const pushOne = blobPusher(options, result, (err) => controller.abort(err));
  const abort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', abort, { once: true });

  // Manifests are read whole through one reader kept open (readSmallRange), not a stream apiece.
  const reader = tar.openSync();
  const one = async (range: BlobRange): Promise<void> => {
    controller.signal.throwIfAborted();
    const desc = range.blob.descriptor;
    if (range.blob.kind === 'manifest') {
      result.manifests.set(desc.digest, readSmallRange(reader, range, MAX_MANIFEST_BYTES));
      return;
    }
    const keys = options.missing.get(desc.digest) ?? [];
    // A large layer streams in one request and, after a failure, resumes from the registry's offset, re-read from the file.
    await pushOne(desc, keys, { stream: openBlobRange(tar, range), again: () => openBlobRange(tar, range), reopen: (offset) => openRawRange(tar, range, offset) });
  };

  try {
    // `concurrency` lanes take one queue, largest upload first (no promise per blob up front): a lane freed by
    // a large upload takes the small ones beside the large ones still under way. Never more than
    // `concurrency` at once: the flag is the user's bound. The first failure stops what has not started yet
    // and is the one reported.
    const failed = (err: unknown): never => {
      controller.abort(err);
      throw err;
    };
    const held = new Set(ranges.filter((r) => r.blob.kind !== 'manifest' && !options.missing.get(r.blob.descriptor.digest)?.length));
    // A read stream per such blob cost an open, a close and fresh buffers apiece (a rerun at 1,000 images: 4,400).
    const proof = proveBlobRanges(tar, [...held], controller.signal).catch(failed);
    const lanes = inLanes(uploadOrder(ranges.filter((r) => !held.has(r)), options.missing, concurrency), concurrency, (range) => one(range).catch(failed));
    const [sent, proven] = await Promise.allSettled([lanes, proof]);
    // The first failure aborted the rest: its error is the signal's reason (as is a caller's abort). A blob
    // that is not its digest is re-examined at volume level: the error names the damaged stick.
    if (sent.status === 'rejected' || proven.status === 'rejected') throw await options.bundle.explain(controller.signal.reason);
    // The mounts the lanes left running, and the bytes of any the registry refused.
    await pushOne.settle();
    return result;
  } catch (err) {
    // Nothing outlives the pass: mounts still in flight settle before the failure is reported.
    await pushOne.idle();
    throw err;
  } finally {
    reader.close();
    options.signal?.removeEventListener('abort', abort);
  }
}
