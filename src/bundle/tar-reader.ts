import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header } from 'tar-stream';
import { ByteTap } from '../core/byte-tap.js';
import { FerryError, ErrorCode, IntegrityError } from '../core/errors.js';
import { quoteEntryName } from './entry-policy.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, TAR_BLOCK, TarPosition } from './ustar.js';

// A thin pull interface over tar-stream's extract: next() hands out one entry
// at a time (the caller consumes or drains it before asking again), and every
// tar-level failure becomes one IntegrityError line naming where it happened.
// It also holds the framing design §4 fixes, which tar-stream lets pass: each
// header starts where the previous entry's padded data ends (no pax or GNU
// extension headers, no stray zero blocks), and the archive ends with its two
// zero blocks — without them the bundle was cut, even on an entry boundary.
// Its refusals are worded as the head reader's (ustar.ts, TarPosition).

export interface TarEntry {
  /** tar-stream's header; byteOffset is where the entry's data starts in the tar. */
  header: Header & { byteOffset?: number };
  /** The entry's bytes as a Node stream (tar-stream hands out streamx streams). */
  stream: Readable;
}

// streamx types its chunks as unknown; at run time they are Buffers.
type ExtractedEntry = AsyncIterable<unknown> & { header: Header };

export class TarReader extends TarPosition {
  private readonly iterator: AsyncIterator<ExtractedEntry>;
  private readonly extractor = extract();
  private readonly piping: Promise<unknown>;
  /** Where the next header must start: the end of the last entry's padded data. */
  private nextHeader = 0;
  /** Bytes handed to the extractor. */
  private fed = 0;

  /** `after`: the entry before `source` starts, when the head was read by another reader (head-tar.ts). */
  constructor(source: Readable, sourceName: string, after?: string) {
    super(sourceName, after);
    // Failures surface through the iterator and the entry streams; this only keeps them handled.
    this.piping = pipeline(source, new ByteTap((n) => (this.fed += n)), this.extractor).catch((err: unknown) => err);
    this.iterator = this.extractor[Symbol.asyncIterator]();
  }

  async next(): Promise<TarEntry | undefined> {
    this.advance();
    let result: IteratorResult<ExtractedEntry>;
    try {
      result = await this.iterator.next();
    } catch (err) {
      throw this.translate(err);
    }
    if (result.done) {
      this.checkEnd();
      return undefined;
    }
    const source = result.value;
    this.checkFraming(source.header);
    this.current = source.header.name;
    return { header: source.header, stream: Readable.from(this.translating(source), { objectMode: false }) };
  }

  private checkFraming(header: Header & { byteOffset?: number }): void {
    const start = (header.byteOffset ?? 0) - TAR_BLOCK;
    if (start !== this.nextHeader) {
      throw this.extraBefore(`${start - this.nextHeader} bytes of extra tar blocks`, header.name);
    }
    this.nextHeader = start + TAR_BLOCK + paddedSize(header.size ?? 0);
  }

  /** At the end of the tar: the two zero blocks must be there (more zero blocks are padding, as tar allows). */
  private checkEnd(): void {
    if (this.fed - this.nextHeader >= END_OF_ARCHIVE_BYTES) return;
    throw this.truncated(); // between entries (next() has moved on): "after entry …", or "before its first entry"
  }

  /** The entry's chunks, with a failure (truncation, a bad volume) turned into a named IntegrityError. */
  private async *translating(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) yield chunk as Buffer;
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** Stops reading (inspect stops at the head of a 100 GB bundle). */
  async close(): Promise<void> {
    this.extractor.destroy();
    await this.piping;
  }

  /** A tar-stream or stream error as one line naming the entry; FerryErrors pass unchanged. */
  override translate(err: unknown): FerryError {
    if (err instanceof FerryError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (/Unexpected end of data/.test(message)) {
      // tar-stream's cut: inside an entry, or after one (no word on the end-of-archive blocks).
      const where = this.current ?? this.last;
      const inside = this.current ? `inside entry ${quoteEntryName(this.current)}` : `after entry ${where ? quoteEntryName(where) : '(none)'}`;
      return new IntegrityError(`bundle ${this.sourceName} is truncated: it ends ${inside}`, { code: ErrorCode.bundleInvalid, subject: this.current ?? this.sourceName, cause: err });
    }
    if (/Invalid tar header|Header exceeds max size|Invalid header/.test(message)) return this.corrupt(err);
    return super.translate(err);
  }
}
