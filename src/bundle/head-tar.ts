import { Readable } from 'node:stream';
import { ErrorCode, FerryError, IntegrityError } from '../core/errors.js';
import { quoteEntryName } from './entry-policy.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, TAR_BLOCK, ustarSize } from './ustar.js';

// The head of a bundle read by a framing reader of its own rather than
// tar-stream, so that inspect (which reads the head only) never loads it. The
// head is a few ustar entries at the start of the file (design §4), each
// header where the previous entry's padded data ends. Each header is checked
// as tar-stream checks it (checksum, ustar or GNU magic, a readable size); pax
// and GNU extension headers and stray zero blocks are refused, as TarReader
// refuses them. After the head, rest() hands the unread bytes on to TarReader
// for the blobs; the messages are TarReader's.

export interface HeadEntry {
  header: { name: string; size: number; type: string | null; linkname: string | null; byteOffset: number };
  /** The entry's bytes, pulled from the bundle as they are read. */
  stream: Readable;
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
/** pax (x, g) and GNU long-name (L, K) headers: they change the entry after them, and a ferry bundle has none. */
const EXTENSIONS = new Set(['x', 'g', 'L', 'K']);

function text(block: Buffer, at: number, length: number): string {
  const end = block.indexOf(0, at);
  return block.toString('utf8', at, end < 0 || end > at + length ? at + length : end);
}

function checksumOk(block: Buffer): boolean {
  let sum = 8 * 0x20;
  for (let i = 0; i < TAR_BLOCK; i++) if (i < 148 || i >= 156) sum += block[i] as number;
  const stated = text(block, 148, 8).trim();
  return /^[0-7]+$/.test(stated) && parseInt(stated, 8) === sum;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

export class HeadTarReader {
  private readonly source: AsyncIterator<Buffer>;
  private readonly sourceName: string;
  /** Bytes received and not yet consumed; `offset` is where buf[0] sits in the tar. */
  private buf: Buffer = Buffer.alloc(0);
  private offset = 0;
  private ended = false;
  /** Bytes of the last entry (unread data and padding) before the next header. */
  private skip = 0;
  private current: string | undefined;
  private last: string | undefined;

  constructor(source: Readable, sourceName: string) {
    this.source = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.sourceName = sourceName;
  }

  /** One more chunk into buf; false at the end of the bundle. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.source.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    return true;
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
    this.offset += n;
  }

  /** Up to `n` bytes (fewer only at the end of the bundle), consumed. */
  private async take(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.fill()));
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.consume(out.length);
    return out;
  }

  async next(): Promise<HeadEntry | undefined> {
    this.last = this.current ?? this.last;
    this.current = undefined;
    try {
      while (this.skip > 0) {
        if (this.buf.length === 0 && !(await this.fill())) throw this.truncated();
        const n = Math.min(this.skip, this.buf.length);
        this.consume(n);
        this.skip -= n;
      }
      const start = this.offset;
      let block = await this.take(TAR_BLOCK);
      while (block.length === TAR_BLOCK && isZero(block)) block = await this.take(TAR_BLOCK);
      if (block.length < TAR_BLOCK) {
        if (block.length === 0 && this.offset - start >= END_OF_ARCHIVE_BYTES) return undefined;
        throw this.truncated();
      }
      const header = this.parse(block);
      const extra = this.offset - TAR_BLOCK - start;
      if (extra > 0 || EXTENSIONS.has(String.fromCharCode(block[156] as number))) {
        const before = extra > 0 ? header.name : await this.extendedName(block, header.size);
        const what = extra > 0 ? `${extra} bytes of extra tar blocks` : 'a pax or GNU extension header';
        throw new IntegrityError(`bundle ${this.sourceName} has ${what} before entry ${quoteEntryName(before)} (a pax or GNU extension header, or zero blocks): a ferry bundle has none`, {
          code: ErrorCode.bundleInvalid,
          subject: before,
        });
      }
      this.current = header.name;
      this.skip = paddedSize(header.size);
      return { header, stream: Readable.from(this.data(header.size), { objectMode: false }) };
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** The name an extension header gives the entry after it (what tar-stream would name it), for the refusal. */
  private async extendedName(block: Buffer, size: number): Promise<string> {
    if (size > 64 * 1024) return text(block, 0, 100);
    const data = await this.take(paddedSize(size));
    const flag = String.fromCharCode(block[156] as number);
    const paths = flag === 'x' ? [...data.toString('utf8', 0, size).matchAll(/(?:^|\n)\d+ path=([^\n]*)/g)] : [];
    if (paths.length > 0) return (paths[paths.length - 1] as RegExpMatchArray)[1] as string;
    if (flag === 'L') return text(data, 0, size);
    return text(await this.take(TAR_BLOCK), 0, 100);
  }

  private parse(block: Buffer): HeadEntry['header'] {
    const magic = block.toString('latin1', 257, 265);
    const size = ustarSize(block);
    if (!checksumOk(block) || (magic !== 'ustar\u000000' && magic !== 'ustar  \u0000') || !Number.isSafeInteger(size)) throw this.corrupt();
    let name = text(block, 0, 100);
    const prefix = magic.startsWith('ustar\u0000') ? text(block, 345, 155) : '';
    if (prefix) name = `${prefix}/${name}`;
    const linkname = text(block, 157, 100);
    return { name, size, type: TYPES[String.fromCharCode(block[156] as number)] ?? null, linkname: linkname || null, byteOffset: this.offset };
  }

  /** The entry's data as it is read; a bundle that ends inside it is truncated. */
  private async *data(size: number): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw this.truncated();
      const n = Math.min(left, this.buf.length);
      const chunk = this.buf.subarray(0, n);
      this.consume(n);
      left -= n;
      this.skip -= n;
      yield chunk;
    }
  }

  /** The bytes after the last entry read and its padding: the blob reader goes on from here. */
  rest(): Readable {
    const self = this;
    return Readable.from(
      (async function* () {
        // The last entry's padding first (a cut inside it shows as a truncated tar to the blob reader).
        while (self.skip > 0 && (self.buf.length > 0 || (await self.fill()))) {
          const n = Math.min(self.skip, self.buf.length);
          self.consume(n);
          self.skip -= n;
        }
        if (self.buf.length > 0) yield self.buf;
        self.buf = Buffer.alloc(0);
        for (let r = await self.source.next(); !r.done; r = await self.source.next()) yield r.value;
      })(),
      { objectMode: false },
    );
  }

  /** Stops reading (inspect stops at the head of a 100 GB bundle). */
  async close(): Promise<void> {
    await this.source.return?.();
  }

  private truncated(): IntegrityError {
    const inside = this.current ? `inside entry ${quoteEntryName(this.current)}` : this.last ? `after entry ${quoteEntryName(this.last)}` : 'before its first entry';
    const end = this.current ? '' : ' without the two end-of-archive blocks';
    return new IntegrityError(`bundle ${this.sourceName} is truncated: it ends ${inside}${end}`, { code: ErrorCode.bundleInvalid, subject: this.current ?? this.last ?? this.sourceName });
  }

  private corrupt(): IntegrityError {
    const where = this.last;
    return new IntegrityError(`bundle ${this.sourceName} has a corrupt tar header ${where ? `after entry ${quoteEntryName(where)}` : 'at its start'}`, {
      code: ErrorCode.bundleInvalid,
      subject: where ?? this.sourceName,
      hint: 'a bundle is a plain, uncompressed tar: was it compressed, cut or altered on the way?',
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
