import { ErrorCode, FerryError, IntegrityError } from '../core/errors.js';
import { quoteEntryName } from './entry-policy.js';

// The bytes of a bundle's tar framing, for the writer that places entries at
// computed offsets (placed-writer.ts): one 512-byte ustar header per entry,
// zero padding to 512, two zero blocks at the end. The header is the one
// tar-stream writes for entryHeader() (mode 0644, uid/gid 0, empty names, type
// '0'), byte for byte (test/bundle/placed-writer.test.ts compares them). `ustarSize` reads a size
// back, for readers that check headers at computed offsets (blob-locate.ts), and
// parseUstarHeader reads a whole header as tar-stream does (head-tar.ts reads
// the head with it, without loading tar-stream). TarPosition words the
// refusals of both tar readers.
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
  header.write(octal(ustarChecksum(header), 6), 148, 'latin1');
  return header;
}

/** The checksum a header must state: the sum of its bytes, the checksum field counted as eight spaces. */
export function ustarChecksum(header: Uint8Array): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < TAR_BLOCK; i++) if (i < 148 || i >= 156) sum += header[i] as number;
  return sum;
}

/** The size a ustar header states: octal, or GNU base-256 (first byte 0x80) from 8 GiB on. NaN when unreadable. */
export function ustarSize(header: Uint8Array): number {
  if (header[124] === 0x80) {
    let size = 0;
    for (let i = 125; i < 136; i++) size = size * 256 + (header[i] as number);
    return size;
  }
  return ustarOctal(header, 124, 12);
}

/**
 * An octal field as every reader of a bundle reads it (the size, the checksum): digits up to the first
 * NUL, spaces around them allowed (what tar writers pad with); NaN otherwise. Byte by byte, no string:
 * a string and two regexps per header were ~4 % of a verify of 4,306 small blobs.
 */
export function ustarOctal(header: Uint8Array, from: number, length: number): number {
  let end = from;
  while (end < from + length && header[end] !== 0) end++;
  let start = from;
  while (start < end && isTarSpace(header[start] as number)) start++;
  while (end > start && isTarSpace(header[end - 1] as number)) end--;
  if (start === end) return Number.NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = header[i] as number;
    if (c < 0x30 || c > 0x37) return Number.NaN;
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/** The white space String.prototype.trim removes, among latin1 bytes: tab to carriage return, space, no-break space. */
function isTarSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

/** A header's fields, named as tar-stream names them (what EntryPolicy checks). */
export interface UstarFields {
  name: string;
  size: number;
  type: string | null;
  linkname: string | null;
}

/** tar-stream's names for the typeflags (what EntryPolicy refuses by name). */
const TYPES: Readonly<Record<string, string>> = {
  '\0': 'file',
  '0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
};
/** pax (x, g) and GNU long-name (L, K) typeflags: they change the entry after them, and a ferry bundle has none. */
const EXTENSIONS = new Set(['x', 'g', 'L', 'K']);

/** The NUL-terminated text of a field (at most `length` bytes). */
export function ustarText(block: Uint8Array, at: number, length: number): string {
  const bytes = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const end = bytes.indexOf(0, at);
  return bytes.toString('utf8', at, end < 0 || end > at + length ? at + length : end);
}

/** Whether a header is a pax or GNU extension header (refused by every reader of a bundle). */
export function isExtensionHeader(block: Uint8Array): boolean {
  return EXTENSIONS.has(String.fromCharCode(block[156] as number));
}

/**
 * One 512-byte header checked as tar-stream checks it (the stated checksum, ustar or
 * GNU magic, a readable size) and read as it reads it (a ustar prefix joined to the
 * name): undefined when it is corrupt.
 */
export function parseUstarHeader(block: Uint8Array): UstarFields | undefined {
  const magic = Buffer.from(block.buffer, block.byteOffset + 257, 8).toString('latin1');
  const size = ustarSize(block);
  if (ustarOctal(block, 148, 8) !== ustarChecksum(block)) return undefined;
  if ((magic !== 'ustar\u000000' && magic !== 'ustar  \u0000') || !Number.isSafeInteger(size)) return undefined;
  let name = ustarText(block, 0, 100);
  const prefix = magic.startsWith('ustar\u0000') ? ustarText(block, 345, 155) : '';
  if (prefix) name = `${prefix}/${name}`;
  const linkname = ustarText(block, 157, 100);
  return { name, size, type: TYPES[String.fromCharCode(block[156] as number)] ?? null, linkname: linkname || null };
}

// Where a reader of a bundle's tar is (the entry being read, the last one read)
// and the refusals that name it, for both readers: the head's (head-tar.ts)
// and the blobs' (tar-reader.ts, over tar-stream). A damaged bundle reads the
// same whichever reader meets the damage. Here rather than in a file of its
// own: both readers load this one already (a module more is a CLI chunk more).

const TAR_HINT = 'a bundle is a plain, uncompressed tar: was it compressed, cut or altered on the way?';

export abstract class TarPosition {
  protected readonly sourceName: string;
  /** The entry being read, for "ends inside …" messages. */
  protected current: string | undefined;
  protected last: string | undefined;

  /** `after`: the entry before the reader's first one, when another reader read those. */
  protected constructor(sourceName: string, after?: string) {
    this.sourceName = sourceName;
    this.last = after;
  }

  /** Moves on to the next entry: the current one becomes the last read. */
  protected advance(): void {
    this.last = this.current ?? this.last;
    this.current = undefined;
  }

  /** Headers or zero blocks where the next entry's header must be (design §4). */
  protected extraBefore(what: string, name: string): IntegrityError {
    return new IntegrityError(`bundle ${this.sourceName} has ${what} before entry ${quoteEntryName(name)} (a pax or GNU extension header, or zero blocks): a ferry bundle has none`, {
      code: ErrorCode.bundleInvalid,
      subject: name,
    });
  }

  /** The bundle ends inside the current entry, or between entries without the two end-of-archive blocks. */
  protected truncated(): IntegrityError {
    const inside = this.current ? `inside entry ${quoteEntryName(this.current)}` : this.last ? `after entry ${quoteEntryName(this.last)}` : 'before its first entry';
    const end = this.current ? '' : ' without the two end-of-archive blocks';
    return new IntegrityError(`bundle ${this.sourceName} is truncated: it ends ${inside}${end}`, { code: ErrorCode.bundleInvalid, subject: this.current ?? this.last ?? this.sourceName });
  }

  protected corrupt(cause?: unknown): IntegrityError {
    const where = this.current ?? this.last;
    return new IntegrityError(`bundle ${this.sourceName} has a corrupt tar header ${where ? `after entry ${quoteEntryName(where)}` : 'at its start'}`, {
      code: ErrorCode.bundleInvalid,
      subject: where ?? this.sourceName,
      cause,
      hint: TAR_HINT,
    });
  }

  /** A stream error as one line naming the entry; FerryErrors pass unchanged. */
  translate(err: unknown): FerryError {
    if (err instanceof FerryError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const where = this.current ?? this.last;
    return new IntegrityError(`cannot read bundle ${this.sourceName}${where ? ` at entry ${quoteEntryName(where)}` : ''}: ${message}`, {
      code: ErrorCode.bundleInvalid,
      subject: where ?? this.sourceName,
      cause: err,
    });
  }
}
