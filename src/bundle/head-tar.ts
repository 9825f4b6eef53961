import { Readable } from 'node:stream';
import { END_OF_ARCHIVE_BYTES, isExtensionHeader, paddedSize, parseUstarHeader, TAR_BLOCK, TarPosition, ustarText } from './ustar.js';

// The head of a bundle read by a framing reader of its own rather than
// tar-stream, so that inspect (which reads the head only) never loads it. The
// head is a few ustar entries at the start of the file (design §4), each
// header where the previous entry's padded data ends. Each header is checked
// and read as tar-stream does (ustar.ts, parseUstarHeader); pax and GNU
// extension headers and stray zero blocks are refused, as TarReader refuses
// them. After the head, rest() hands the unread bytes on to TarReader for the
// blobs; both name what they refuse alike (ustar.ts, TarPosition).

export interface HeadEntry {
  header: { name: string; size: number; type: string | null; linkname: string | null; byteOffset: number };
  /** The entry's bytes, pulled from the bundle as they are read (a stream made on first use). */
  readonly stream: Readable;
  /**
   * All of the entry's bytes, in a buffer of their own: for a head file, whose size the caller
   * checked against its cap. No stream between (a Readable and its async iterator per head file
   * were a small inspect's largest use of node:stream's code). Use this or `stream`, not both.
   */
  bytes(): Promise<Buffer>;
}

/** A bundle file's read size (bundle-source.ts CHUNK). */
const SOURCE_CHUNK_BYTES = 256 * 1024;

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** An entry's data chunks, copied into one buffer of `size` bytes. */
async function collect(data: AsyncGenerator<Buffer>, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(chunk);
  return Buffer.concat(chunks, size);
}

export class HeadTarReader extends TarPosition {
  private readonly source: AsyncIterator<Buffer>;
  /** Bytes received and not yet consumed; `offset` is where buf[0] sits in the tar. */
  private buf: Buffer = Buffer.alloc(0);
  private offset = 0;
  private ended = false;
  /** Bytes of the last entry (unread data and padding) before the next header. */
  private skip = 0;

  /** The source is the chunks as read, with no stream buffering them. */
  private readonly unbuffered: boolean;

  /** `source`: the bundle's bytes, a stream or the chunks as read (BundleSource.chunks). */
  constructor(source: Readable | AsyncIterable<Buffer>, sourceName: string) {
    super(sourceName);
    this.unbuffered = !(source instanceof Readable);
    this.source = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
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
    this.advance();
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
      if (extra > 0 || isExtensionHeader(block)) {
        const before = extra > 0 ? header.name : await this.extendedName(block, header.size);
        throw this.extraBefore(extra > 0 ? `${extra} bytes of extra tar blocks` : 'a pax or GNU extension header', before);
      }
      this.current = header.name;
      this.skip = paddedSize(header.size);
      const data = this.data(header.size);
      let stream: Readable | undefined;
      return {
        header,
        get stream() {
          stream ??= Readable.from(data, { objectMode: false });
          return stream;
        },
        bytes: () => collect(data, header.size),
      };
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** The name an extension header gives the entry after it (what tar-stream would name it), for the refusal. */
  private async extendedName(block: Buffer, size: number): Promise<string> {
    if (size > 64 * 1024) return ustarText(block, 0, 100);
    const data = await this.take(paddedSize(size));
    const flag = String.fromCharCode(block[156] as number);
    const paths = flag === 'x' ? [...data.toString('utf8', 0, size).matchAll(/(?:^|\n)\d+ path=([^\n]*)/g)] : [];
    if (paths.length > 0) return (paths[paths.length - 1] as RegExpMatchArray)[1] as string;
    if (flag === 'L') return ustarText(data, 0, size);
    return ustarText(await this.take(TAR_BLOCK), 0, 100);
  }

  private parse(block: Buffer): HeadEntry['header'] {
    const fields = parseUstarHeader(block);
    if (!fields) throw this.corrupt();
    return { ...fields, byteOffset: this.offset };
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
        // A bundle file's chunks came unbuffered for the head (BundleSource.chunks); the blobs read on
        // through a stream of them as before, made only now that the head reader is done with them
        // (its 256 KiB of read-ahead: an import paired without it measured ~5 % more CPU).
        const source = self.unbuffered
          ? (Readable.from(self.remaining(), { objectMode: false, highWaterMark: SOURCE_CHUNK_BYTES })[Symbol.asyncIterator]() as AsyncIterator<Buffer>)
          : self.source;
        for (let r = await source.next(); !r.done; r = await source.next()) yield r.value;
      })(),
      { objectMode: false },
    );
  }

  /** The source's chunks not read yet. */
  private async *remaining(): AsyncGenerator<Buffer> {
    for (let r = await this.source.next(); !r.done; r = await this.source.next()) yield r.value;
  }

  /** Stops reading (inspect stops at the head of a 100 GB bundle). */
  async close(): Promise<void> {
    await this.source.return?.();
  }
}
