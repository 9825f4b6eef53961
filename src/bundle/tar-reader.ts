import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header } from 'tar-stream';
import { ByteTap } from '../core/byte-tap.js';
import { FerryError, ErrorCode, IntegrityError } from '../core/errors.js';
import { quoteEntryName } from './entry-policy.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, TAR_BLOCK } from './ustar.js';

// A thin pull interface over tar-stream's extract: next() hands out one entry
// at a time (the caller consumes or drains it before asking again), and every
// tar-level failure becomes one IntegrityError line naming where it happened.
// It also holds the framing design §4 fixes, which tar-stream lets pass: each
// header starts where the previous entry's padded data ends (no pax or GNU
// extension headers, no stray zero blocks), and the archive ends with its two
// zero blocks — without them the bundle was cut, even on an entry boundary.

export interface TarEntry {
  /** tar-stream's header; byteOffset is where the entry's data starts in the tar. */
  header: Header & { byteOffset?: number };
  /** The entry's bytes as a Node stream (tar-stream hands out streamx streams). */
  stream: Readable;
}

// streamx types its chunks as unknown; at run time they are Buffers.
type ExtractedEntry = AsyncIterable<unknown> & { header: Header };

export class TarReader {
  private readonly iterator: AsyncIterator<ExtractedEntry>;
  private readonly extractor = extract();
  private readonly piping: Promise<unknown>;
  private readonly sourceName: string;
  /** The entry being read, for "ends inside …" messages. */
  private current: string | undefined;
  private last: string | undefined;
  /** Where the next header must start: the end of the last entry's padded data. */
  private nextHeader = 0;
  /** Bytes handed to the extractor. */
  private fed = 0;

  /** `after`: the entry before `source` starts, when the head was read by another reader (head-tar.ts). */
  constructor(source: Readable, sourceName: string, after?: string) {
    this.sourceName = sourceName;
    this.last = after;
    // Failures surface through the iterator and the entry streams; this only keeps them handled.
    this.piping = pipeline(source, new ByteTap((n) => (this.fed += n)), this.extractor).catch((err: unknown) => err);
    this.iterator = this.extractor[Symbol.asyncIterator]();
  }

  async next(): Promise<TarEntry | undefined> {
    this.last = this.current ?? this.last;
    this.current = undefined;
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
      throw new IntegrityError(
        `bundle ${this.sourceName} has ${start - this.nextHeader} bytes of extra tar blocks before entry ${quoteEntryName(header.name)} (a pax or GNU extension header, or zero blocks): a ferry bundle has none`,
        { code: ErrorCode.bundleInvalid, subject: header.name },
      );
    }
    this.nextHeader = start + TAR_BLOCK + paddedSize(header.size ?? 0);
  }

  /** At the end of the tar: the two zero blocks must be there (more zero blocks are padding, as tar allows). */
  private checkEnd(): void {
    if (this.fed - this.nextHeader >= END_OF_ARCHIVE_BYTES) return;
    const after = this.last ?? this.current;
    throw new IntegrityError(`bundle ${this.sourceName} is truncated: it ends ${after ? `after entry ${quoteEntryName(after)}` : 'before its first entry'} without the two end-of-archive blocks`, {
      code: ErrorCode.bundleInvalid,
      subject: after ?? this.sourceName,
    });
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
  translate(err: unknown): FerryError {
    if (err instanceof FerryError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const where = this.current ?? this.last;
    if (/Unexpected end of data/.test(message)) {
      const inside = this.current ? `inside entry ${quoteEntryName(this.current)}` : `after entry ${where ? quoteEntryName(where) : '(none)'}`;
      return new IntegrityError(`bundle ${this.sourceName} is truncated: it ends ${inside}`, { code: ErrorCode.bundleInvalid, subject: this.current ?? this.sourceName, cause: err });
    }
    if (/Invalid tar header|Header exceeds max size|Invalid header/.test(message)) {
      const after = where ? `after entry ${quoteEntryName(where)}` : 'at its start';
      return new IntegrityError(`bundle ${this.sourceName} has a corrupt tar header ${after}`, {
        code: ErrorCode.bundleInvalid,
        subject: where ?? this.sourceName,
        cause: err,
        hint: 'a bundle is a plain, uncompressed tar: was it compressed, cut or altered on the way?',
      });
    }
    return new IntegrityError(`cannot read bundle ${this.sourceName}${where ? ` at entry ${quoteEntryName(where)}` : ''}: ${message}`, {
      code: ErrorCode.bundleInvalid,
      subject: where ?? this.sourceName,
      cause: err,
    });
  }
}
