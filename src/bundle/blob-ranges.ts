import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { offerChunks } from '../core/chunk-source.js';
import { checkHashed, type Expected } from '../core/hashing.js';
import { verifyingStream } from '../core/verified-stream.js';
import { blobEntryName, type BundleRelease } from './format.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, TAR_BLOCK, ustarChecksum, ustarOctal, ustarSize } from './ustar.js';
import type { DbBlob } from './manifest-db.js';
import type { Bundle } from './reader.js';

// Random access to the blobs of a single-file bundle, so an importer can push
// several at once instead of one after another from a single tar pass. The
// writer's layout is deterministic (design §4): after the head, each blob is one
// 512-byte ustar header and its data padded to 512, in SHA256SUMS order, then the
// 1024-byte end of archive. Every header is read back at its computed offset and
// checked (name, size, type, checksum) and the file must end exactly there, so
// no entry can hide between or after the blobs; anything else (another writer,
// pax headers, a truncated file) answers undefined and the caller reads the tar
// in one pass as before. Each range is verified against its digest while read.

export interface BlobRange {
  blob: DbBlob;
  /** The tar entry name, blobs/sha256/<hex>. */
  entry: string;
  /** First data byte in the file. */
  start: number;
}

const USTAR = Buffer.from('ustar', 'latin1');

/**
 * A ustar header for `name` of `size` bytes (octal, or base-256 from 8 GiB), regular file, intact
 * checksum. Byte compares, no strings: it runs once per blob (4,400 at 1,000 images).
 */
function headerMatches(header: Buffer, name: string, size: number): boolean {
  const type = header[156];
  return (
    ustarOctal(header, 148, 8) === ustarChecksum(header) &&
    (name.length === 100 || header[name.length] === 0) &&
    header.toString('latin1', 0, name.length) === name &&
    header[345] === 0 &&
    ustarSize(header) === size &&
    (type === 0x30 || type === 0) &&
    header.compare(USTAR, 0, 5, 257, 262) === 0
  );
}

/** Bytes read per header window: one read covers the headers of many small blobs. */
const WINDOW_BYTES = 256 * 1024;

/**
 * Reads a file forwards in windows: `at(offset, length)` answers from the
 * current window when it holds those bytes, else reads a new one from there.
 * 4,000 small blobs made 4,000 reads of 512 bytes, a fifth of a `ferry verify`.
 */
class WindowReader {
  private readonly buf = Buffer.allocUnsafe(WINDOW_BYTES);
  private from = 0;
  private got = 0;
  private readonly fd: number;

  constructor(fd: number) {
    this.fd = fd;
  }

  /** `length` bytes at `position`; a new window reads `ahead` bytes (default: a whole window). */
  at(position: number, length: number, ahead = WINDOW_BYTES): Buffer | undefined {
    if (position < this.from || position + length > this.from + this.got) {
      this.from = position;
      this.got = readSync(this.fd, this.buf, 0, Math.max(length, Math.min(ahead, WINDOW_BYTES)), position);
      if (length > this.got) return undefined;
    }
    return this.buf.subarray(position - this.from, position - this.from + length);
  }
}

/**
 * Where each carried blob of an opened single-file bundle lies, tar order; or
 * undefined when the file is not laid out as ferry writes it (or is a volume set
 * or a stream): then use `bundle.blobs()`. With `oneVolume`, the only volume of a
 * set counts as the file (its list's sha256 for it is then not read: verify reads
 * it, an import proves every blob as a single file's). The headers are read synchronously,
 * in windows (WindowReader), from the page cache after the head was read; one
 * async read apiece made this pass a tenth of a small `ferry verify`.
 */
export async function locateBlobs(path: string, bundle: Bundle, options: { oneVolume?: boolean } = {}): Promise<BlobRange[] | undefined> {
  if (bundle.volumes && !(options.oneVolume && path === bundle.tarFile)) return undefined;
  const carried = bundle.db.blobs().filter((b) => b.included);
  if (carried.length !== bundle.sums.length || carried.some((b, i) => b.descriptor.digest !== bundle.sums[i])) return undefined;
  const fd = openSync(path, 'r');
  try {
    const file = new WindowReader(fd);
    const ranges: BlobRange[] = [];
    let offset = bundle.headBytes;
    // The ferry releases carried come first (toolRanges says where).
    for (const release of bundle.bundleJson.releases ?? []) {
      const header = file.at(offset, TAR_BLOCK);
      if (!header || !headerMatches(header, release.entry, release.size)) return undefined;
      offset += TAR_BLOCK + paddedSize(release.size);
    }
    for (const blob of carried) {
      const entry = blobEntryName(blob.descriptor.digest);
      // Before a blob larger than a window, the header alone: the window would hold nothing else of use.
      const header = file.at(offset, TAR_BLOCK, paddedSize(blob.descriptor.size) >= WINDOW_BYTES ? TAR_BLOCK : WINDOW_BYTES);
      if (!header || !headerMatches(header, entry, blob.descriptor.size)) return undefined;
      ranges.push({ blob, entry, start: offset + TAR_BLOCK });
      offset += TAR_BLOCK + paddedSize(blob.descriptor.size);
    }
    const end = file.at(offset, END_OF_ARCHIVE_BYTES);
    if (!end || end.some((b) => b !== 0) || fstatSync(fd).size !== offset + END_OF_ARCHIVE_BYTES) return undefined;
    return ranges;
  } finally {
    closeSync(fd);
  }
}

/** Where the data of each carried ferry release starts, for a bundle locateBlobs laid out (it checked their headers). */
export function toolRanges(bundle: Pick<Bundle, 'headBytes' | 'bundleJson'>): Array<{ release: BundleRelease; start: number }> {
  let offset = bundle.headBytes;
  return (bundle.bundleJson.releases ?? []).map((release) => {
    const start = offset + TAR_BLOCK;
    offset = start + paddedSize(release.size);
    return { release, start };
  });
}

/** Bytes per read of a range: a syscall each (300 MiB in 64 KiB reads: 0.28 s, 256 KiB: 0.15 s, 1 MiB: 0.085 s). */
const RANGE_CHUNK = 1024 * 1024;

/**
 * The bytes of one located blob, verified (size and digest) as they are read: errors like the one-pass
 * reader's. An uploader may take them as chunks in two reused buffers instead (offerChunks, rangeChunks).
 */
export function openBlobRange(path: string, range: BlobRange): Readable {
  const { descriptor } = range.blob;
  const verify = verifyingStream(descriptor, range.entry);
  if (descriptor.size === 0) {
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
      const file = createReadStream(path, { start: range.start, end: range.start + descriptor.size - 1, highWaterMark: RANGE_CHUNK });
      // pipeline: an error on either side ends both (the file closes if the consumer gives up).
      pipeline(file, verify, () => undefined);
    }
    read(size);
  };
  offerChunks(verify, () => {
    if (opened) return undefined;
    opened = true;
    return rangeChunks(path, range.start, descriptor, range.entry);
  });
  return verify;
}

/** Reads `buf.length` bytes (fewer only at the end of the file) at `position`: pread may answer short. */
async function fill(file: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await file.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * `expected.size` bytes of the file from `start`, hashed as read, in two buffers used in turn with one
 * read ahead: the read into a buffer starts when the consumer asks for the chunk after the one it held,
 * so a chunk stays untouched until the consumer asks for the next (core/chunk-source.ts). Every chunk
 * but the last is full (RANGE_CHUNK). Fails like VerifyStream: a file that ends early is a size
 * mismatch, other bytes a digest mismatch, thrown after the last chunk.
 */
async function* rangeChunks(path: string, start: number, expected: Expected, subject: string): AsyncGenerator<Buffer> {
  const { size } = expected;
  const file = await open(path, 'r');
  const width = Math.min(RANGE_CHUNK, size);
  const ring = size > RANGE_CHUNK ? [Buffer.allocUnsafe(width), Buffer.allocUnsafe(width)] : [Buffer.allocUnsafe(width)];
  const hash = createHash('sha256');
  const sized = (at: number, buf: Buffer): Buffer => (size - at < buf.length ? buf.subarray(0, size - at) : buf);
  let at = 0;
  let turn = 0;
  let next: Promise<number> | undefined = fill(file, sized(0, ring[0] as Buffer), start);
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
        next = fill(file, sized(at, ring[turn] as Buffer), start + at);
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

/** The raw bytes of a located blob from `offset` to its end, NOT verified: for a pusher resuming mid-blob, which verifies. */
export function openRawRange(path: string, range: BlobRange, offset: number): Readable {
  const { size } = range.blob.descriptor;
  if (offset >= size) return Readable.from([]);
  return createReadStream(path, { start: range.start + offset, end: range.start + size - 1, highWaterMark: 1024 * 1024 });
}

/** Range-pool jobs for located blobs: each checked against its descriptor, named by its entry. */
export function rangeJobs(path: string, ranges: readonly BlobRange[]): Array<{ expected: BlobRange['blob']['descriptor']; path: string; start: number; subject: string }> {
  return ranges.map((r) => ({ expected: r.blob.descriptor, path, start: r.start, subject: r.entry }));
}

/**
 * Proves located blobs without sending them anywhere (an importer's blobs the target already holds): on
 * the calling thread, neighbouring ranges in one positional read into one reused buffer
 * (core/range-pool.ts), yielding between batches. Rejects with the first that is not its digest, named
 * by its entry. The pool loads on the first call: inspect never proves a blob.
 */
export async function proveBlobRanges(path: string, ranges: readonly BlobRange[], signal?: AbortSignal): Promise<void> {
  if (ranges.length === 0) return;
  const { RangePool } = await import('./range-pool.js');
  const pool = new RangePool({ mainThread: true, threads: 1 });
  try {
    await pool.run(rangeJobs(path, ranges), undefined, signal);
  } finally {
    await pool.close();
  }
}
