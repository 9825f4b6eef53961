import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header } from 'tar-stream';
import { FerryError, ErrorCode, IntegrityError } from '../core/errors.js';
import { quoteEntryName } from './entry-policy.js';

// A thin pull interface over tar-stream's extract: next() hands out one entry
// at a time (the caller consumes or drains it before asking again), and every
// tar-level failure becomes one IntegrityError line naming where it happened.

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

  constructor(source: Readable, sourceName: string) {
    this.sourceName = sourceName;
    // Failures surface through the iterator and the entry streams; this only keeps them handled.
    this.piping = pipeline(source, this.extractor).catch((err: unknown) => err);
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
    if (result.done) return undefined;
    const source = result.value;
    this.current = source.header.name;
    return { header: source.header, stream: Readable.from(this.translating(source), { objectMode: false }) };
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
