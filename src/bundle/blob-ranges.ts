import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { offerChunks } from '../core/chunk-source.js';
import { checkHashed, verifyBytes, type Expected } from '../core/hashing.js';
import { tooLarge } from '../core/read-capped.js';
import { verifyingStream } from '../core/verified-stream.js';
import type { BlobRange } from './blob-locate.js';
import type { SpanReaderSync, TarPiece, TarSpan } from './tar-span.js';

// The bytes of located blobs (blob-locate.ts): each read from its byte range of
// the tar on disk, verified against its digest while read, so an importer can
// push several at once.

/** Bytes per read of a range: a syscall each (300 MiB in 64 KiB reads: 0.28 s, 256 KiB: 0.15 s, 1 MiB: 0.085 s). */
const RANGE_CHUNK = 1024 * 1024;

/** Tar bytes to prove: `expected.size` of them from tar offset `start`, named `subject` in errors (a tar entry). */
export interface TarRange {
  expected: Expected;
  start: number;
  subject: string;
}

/** A located blob as tar bytes to prove. */
export const blobTarRange = (range: BlobRange): TarRange => ({ expected: range.blob.descriptor, start: range.start, subject: range.entry });

/**
 * The bytes of one located blob, verified (size and digest) as they are read: errors like the one-pass
 * reader's. An uploader may take them as chunks in two reused buffers instead (offerChunks, rangeChunks).
 */
export function openBlobRange(tar: TarSpan, range: BlobRange): Readable {
  return openTarRange(tar, blobTarRange(range));
}

/** The bytes of a tar range, verified as they are read (openBlobRange). */
export function openTarRange(tar: TarSpan, range: TarRange): Readable {
  const { expected } = range;
  const verify = verifyingStream(expected, range.subject);
  if (expected.size === 0) {
    verify.end();
    return verify;
  }
  // The file is opened when the consumer first asks for bytes, not now: an importer opens a blob's range
  // before its upload's POST, and bytes read then were hashed while the lane waited for the answer.
  let opened = false;
  const read = verify._read.bind(verify);
  verify._read = (size: number): void => {
    if (!opened) {
      opened = true;
      // pipeline: an error on either side ends both (the file closes if the consumer gives up).
      pipeline(readPieces(tar.pieces(range.start, expected.size)), verify, () => undefined);
    }
    read(size);
  };
  offerChunks(verify, () => {
    if (opened) return undefined;
    opened = true;
    return rangeChunks(tar, range.start, expected, range.subject);
  });
  return verify;
}

/** The bytes of file pieces in turn, NOT verified (a file cut short gives fewer). */
function readPieces(pieces: readonly TarPiece[]): Readable {
  const one = (p: TarPiece): Readable => createReadStream(p.path, { start: p.offset, end: p.offset + p.size - 1, highWaterMark: RANGE_CHUNK });
  if (pieces.length === 1) return one(pieces[0] as TarPiece);
  // A blob across a volume's end (one per volume at most).
  return Readable.from(
    (async function* () {
      for (const piece of pieces) yield* one(piece);
    })(),
    { objectMode: false },
  );
}

/**
 * `expected.size` bytes of the tar from `start`, hashed as read, in two buffers used in turn with one
 * read ahead: the read into a buffer starts when the consumer asks for the chunk after the one it held,
 * so a chunk stays untouched until the consumer asks for the next (core/chunk-source.ts). Every chunk
 * but the last is full (RANGE_CHUNK). Fails like VerifyStream: a file that ends early is a size
 * mismatch, other bytes a digest mismatch, thrown after the last chunk.
 */
async function* rangeChunks(tar: TarSpan, start: number, expected: Expected, subject: string): AsyncGenerator<Buffer> {
  const { size } = expected;
  const file = tar.open();
  const width = Math.min(RANGE_CHUNK, size);
  const ring = size > RANGE_CHUNK ? [Buffer.allocUnsafe(width), Buffer.allocUnsafe(width)] : [Buffer.allocUnsafe(width)];
  const hash = createHash('sha256');
  const sized = (at: number, buf: Buffer): Buffer => (size - at < buf.length ? buf.subarray(0, size - at) : buf);
  let at = 0;
  let turn = 0;
  let next: Promise<number> | undefined = file.fill(sized(0, ring[0] as Buffer), start);
  try {
    while (next) {
      const buf = ring[turn] as Buffer;
      const got = await next;
      next = undefined;
      const chunk = buf.subarray(0, got);
      const wanted = Math.min(buf.length, size - at);
      at += got;
      if (got < wanted) {
        // The file ended inside the blob.
        throw checkHashed(expected, at, '', subject) as Error;
      }
      hash.update(chunk);
      if (at < size) {
        turn = (turn + 1) % ring.length;
        next = file.fill(sized(at, ring[turn] as Buffer), start + at);
      }
      yield chunk;
    }
    const error = checkHashed(expected, at, hash.digest('hex'), subject);
    if (error) throw error;
  } finally {
    await next?.catch(() => undefined);
    await file.close();
  }
}

/**
 * A small located blob (a manifest, a signature layer) whole, verified: one positional read through a
 * reader the caller keeps open, refused past `limit` before a byte is read. Errors as openBlobRange's
 * and readCapped's. A read stream apiece cost an open, a close and the stream's turns: 2,750 manifests
 * of the 1,000-image bundle took 0.66-1.6 s that way (a signed import gathers as many before its first push).
 */
export function readSmallRange(reader: SpanReaderSync, range: BlobRange, limit: number): Buffer {
  const { descriptor } = range.blob;
  if (descriptor.size > limit) throw tooLarge(limit, range.entry);
  const bytes = Buffer.allocUnsafe(descriptor.size);
  const got = reader.read(bytes, descriptor.size, range.start);
  verifyBytes(bytes.subarray(0, got), descriptor, range.entry);
  return bytes;
}

/** The raw bytes of a located blob from `offset` to its end, NOT verified: for a pusher resuming mid-blob, which verifies. */
export function openRawRange(tar: TarSpan, range: BlobRange, offset: number): Readable {
  const { size } = range.blob.descriptor;
  if (offset >= size) return Readable.from([]);
  return readPieces(tar.pieces(range.start + offset, size - offset));
}

/**
 * Range-pool jobs for tar ranges that each lie in one file, checked against their expected digests and
 * named by their subjects; `across`, the ranges cut across two volumes (read those with openTarRange).
 */
export function rangeJobs(tar: TarSpan, ranges: readonly TarRange[]): { jobs: Array<TarRange & { path: string }>; across: TarRange[] } {
  const jobs = [];
  const across = [];
  for (const range of ranges) {
    // Once per blob (4,400 at 1,000 images): no arrays, no spread.
    const file = tar.within(range.start, range.expected.size);
    if (file) jobs.push({ expected: range.expected, path: file.path, start: file.offset, subject: range.subject });
    else across.push(range);
  }
  return { jobs, across };
}

/**
 * Reads tar ranges one after another, each hashed as read in two reused buffers (rangeChunks: a read
 * stream's fresh 1 MiB chunks put 25 MiB on a verify's peak RSS): rejects with the first that is not its digest.
 */
export async function proveAcross(tar: TarSpan, ranges: readonly TarRange[], signal?: AbortSignal, onProved?: (range: TarRange) => void): Promise<void> {
  for (const range of ranges) {
    signal?.throwIfAborted();
    for await (const _ of rangeChunks(tar, range.start, range.expected, range.subject)) signal?.throwIfAborted();
    onProved?.(range);
  }
}

/**
 * Proves located blobs without sending them anywhere (an importer's blobs the target already holds):
 * neighbouring ranges in one positional read into one reused buffer (core/range-pool.ts), on the calling
 * thread between batches and, for more than HASH_ALONE_BYTES, on the pool's workers too; a blob across
 * two volumes through its own reused buffers. Rejects with the first that is not its digest, named by its entry. The pool loads on the
 * first call: inspect never proves a blob.
 */
export async function proveBlobRanges(tar: TarSpan, ranges: readonly BlobRange[], signal?: AbortSignal): Promise<void> {
  if (ranges.length === 0) return;
  const { jobs, across } = rangeJobs(tar, ranges.map(blobTarRange));
  const { RangePool } = await import('./range-pool.js');
  // Few bytes stay on this thread alone (HASH_ALONE_BYTES: a rerun at 1,000 images proves 12 MB); more
  // take the other cores too, as verify does: a resume whose target held the bench set's 313 MB, 12 pairs,
  // median 840 → 743 ms (docs/performance.md "Stop 35").
  const pool = new RangePool({ mainThread: true, bytes: jobs.reduce((n, j) => n + j.expected.size, 0) });
  try {
    await pool.run(jobs, undefined, signal);
  } finally {
    await pool.close();
  }
  await proveAcross(tar, across, signal);
}
