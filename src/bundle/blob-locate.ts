import { blobEntryName, type BundleRelease } from './format.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, TAR_BLOCK, ustarChecksum, ustarOctal, ustarSize } from './ustar.js';
import type { DbBlob } from './manifest-db.js';
import type { Bundle } from './reader.js';
import type { SpanReaderSync, TarSpan } from './tar-span.js';

// Where each blob of a bundle on disk lies (one file, or a set's volumes end to
// end: TarSpan), so that it can be read by its byte range (blob-ranges.ts). The
// writer's layout is deterministic (design §4): after the head, each blob is one
// 512-byte ustar header and its data padded to 512, in SHA256SUMS order, then the
// 1024-byte end of archive. Every header is read back at its computed offset and
// checked (name, size, type, checksum) and the tar must end exactly there, so
// no entry can hide between or after the blobs; anything else (another writer,
// pax headers, a truncated file) answers undefined and the caller reads the tar
// in one pass. Each range is verified against its digest when read.

export interface BlobRange {
  blob: DbBlob;
  /** The tar entry name, blobs/sha256/<hex>. */
  entry: string;
  /** First data byte, as an offset in the tar. */
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
  private readonly file: SpanReaderSync;

  constructor(file: SpanReaderSync) {
    this.file = file;
  }

  /** `length` bytes at `position`; a new window reads `ahead` bytes (default: a whole window). */
  at(position: number, length: number, ahead = WINDOW_BYTES): Buffer | undefined {
    if (position < this.from || position + length > this.from + this.got) {
      this.from = position;
      this.got = this.file.read(this.buf, Math.max(length, Math.min(ahead, WINDOW_BYTES)), position);
      if (length > this.got) return undefined;
    }
    return this.buf.subarray(position - this.from, position - this.from + length);
  }
}

/**
 * Where each carried blob of an opened bundle lies in its tar, tar order; or undefined when the tar
 * is not laid out as ferry writes it: then use `bundle.blobs()`. The headers are read synchronously,
 * in windows (WindowReader), from the page cache after the head was read; one async read apiece made
 * this pass a tenth of a small `ferry verify`. A header or a blob may straddle two volumes.
 */
export function locateBlobs(tar: TarSpan, bundle: Pick<Bundle, 'db' | 'sums' | 'headBytes' | 'bundleJson'>): BlobRange[] | undefined {
  const carried = bundle.db.blobs().filter((b) => b.included);
  if (carried.length !== bundle.sums.length || carried.some((b, i) => b.descriptor.digest !== bundle.sums[i])) return undefined;
  const reader = tar.openSync();
  try {
    const file = new WindowReader(reader);
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
    if (!end || end.some((b) => b !== 0) || tar.size !== offset + END_OF_ARCHIVE_BYTES) return undefined;
    return ranges;
  } finally {
    reader.close();
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

