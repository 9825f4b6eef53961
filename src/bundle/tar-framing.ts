import { ErrorCode, FerryError, IntegrityError } from '../core/errors.js';
import { quoteEntryName } from './entry-policy.js';

// Where a reader of a bundle's tar is (the entry being read, the last one read)
// and the refusals that name it, for both readers: the head's (head-tar.ts)
// and the blobs' (tar-reader.ts, over tar-stream). A damaged bundle reads the
// same whichever reader meets the damage. No tar-stream here: inspect loads it.

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
