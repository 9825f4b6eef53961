// The bytes of a bundle's tar framing, for the writer that places entries at
// computed offsets (placed-writer.ts): one 512-byte ustar header per entry,
// zero padding to 512, two zero blocks at the end. The header is the one
// tar-stream writes for entryHeader() (mode 0644, uid/gid 0, empty names, type
// '0'), byte for byte (test/bundle/placed-writer.test.ts compares them). `ustarSize` reads a size
// back, for readers that check headers at computed offsets (blob-ranges.ts).
// The release builder (src/release) uses the same encoder with other modes and
// directory entries.

export const TAR_BLOCK = 512;
export const END_OF_ARCHIVE_BYTES = 2 * TAR_BLOCK;

/** Bytes of an entry's data plus its padding. */
export function paddedSize(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

/** The zeros after `size` bytes of entry data. */
export function paddingFor(size: number): Buffer {
  return Buffer.alloc(paddedSize(size) - size);
}

/** `value` in octal, zero-filled to `digits`, then a space (what tar-stream writes). */
function octal(value: number, digits: number): string {
  return `${value.toString(8).padStart(digits, '0')} `;
}

export interface UstarOptions {
  /** Permission bits (default 0644). */
  mode?: number;
  /** A directory entry (typeflag '5', size 0) instead of a regular file. */
  directory?: boolean;
}

/** One ustar header for a regular file `name` (ASCII, ≤ 100 bytes) of `size` bytes. */
export function ustarHeader(name: string, size: number, mtime: Date, options: UstarOptions = {}): Buffer {
  if (name.length > 100 || !/^[\x20-\x7e]+$/.test(name)) throw new Error(`tar entry name ${name} does not fit a ustar header`);
  const header = Buffer.alloc(TAR_BLOCK);
  header.write(name, 0, 'latin1');
  header.write(octal(options.mode ?? 0o644, 6), 100, 'latin1');
  header.write(octal(0, 6), 108, 'latin1');
  header.write(octal(0, 6), 116, 'latin1');
  if (size.toString(8).length > 11) {
    // 8 GiB and more: GNU base-256, big-endian in the 11 bytes after the 0x80 marker.
    header[124] = 0x80;
    let rest = size;
    for (let i = 11; i > 0; i--) {
      header[124 + i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
  } else {
    header.write(octal(size, 11), 124, 'latin1');
  }
  header.write(octal(Math.trunc(mtime.getTime() / 1000), 11), 136, 'latin1');
  header[156] = options.directory ? 0x35 : 0x30;
  header.write('ustar\u000000', 257, 'latin1');
  header.write(octal(0, 6), 329, 'latin1');
  header.write(octal(0, 6), 337, 'latin1');
  let sum = 8 * 0x20;
  for (let i = 0; i < TAR_BLOCK; i++) if (i < 148 || i >= 156) sum += header[i] as number;
  header.write(octal(sum, 6), 148, 'latin1');
  return header;
}

/** The size a ustar header states: octal, or GNU base-256 (first byte 0x80) from 8 GiB on. NaN when unreadable. */
export function ustarSize(header: Uint8Array): number {
  if (header[124] === 0x80) {
    let size = 0;
    for (let i = 125; i < 136; i++) size = size * 256 + (header[i] as number);
    return size;
  }
  const text = Buffer.from(header.subarray(124, 136)).toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : Number.NaN;
}
