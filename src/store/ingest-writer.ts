import type { Hash } from 'node:crypto';
import { chmod, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ErrorCode, IntegrityError, InternalError, UsageError, type Descriptor, type Digest, type EventSink, type MediaTypeName } from '../core/index.js';
import { commitPartial } from './commit.js';
import { commitGroupOf } from './commit-group.js';
import { removeQuietly } from './durable-fs.js';
import type { IngestPaths } from './layout.js';
import type { Release } from './ref-locks.js';
import type { StoreContext } from './store-context.js';

/** What the writer of an ingest expects to end up with; the digest may only be known at commit (chunked uploads). */
export interface IngestExpectation {
  digest?: Digest;
  size?: number;
  mediaType?: MediaTypeName;
}

export interface CommitOptions {
  /** Names the content in errors (a reference, an entry name); default the digest. */
  subject?: string;
  /** Index writes that must land in the same transaction as the blob (a link, manifest rows). Synchronous. */
  inTransaction?: (() => void) | undefined;
}

export interface CommitResult {
  digest: Digest;
  size: number;
  /** The blob was already in the store; the written bytes were dropped. */
  existed: boolean;
}

export interface WriterInit {
  ctx: StoreContext;
  ref: string;
  paths: IngestPaths;
  fh: FileHandle;
  hash: Hash;
  offset: number;
  expected: IngestExpectation | undefined;
  startedAt: number;
  release: Release;
}

/**
 * The single writer of one ingest (containerd content.Writer). Bytes go to
 * ingest/<key>.partial and through a sha256 as they are written; nothing is
 * visible to readers until `commit` has checked size and digest and renamed the
 * file into blobs/. `close` keeps the partial for a later resume; `abort` drops it.
 */
export class IngestWriter {
  readonly ref: string;
  /** Bytes that were already in the partial when this writer opened: fetch the rest from here (HTTP Range). */
  readonly offset: number;
  readonly startedAt: number;
  private readonly ctx: StoreContext;
  private readonly paths: IngestPaths;
  private readonly hash: Hash;
  private readonly expected: IngestExpectation | undefined;
  private readonly releaseLock: Release;
  private fh: FileHandle | undefined;
  private bytes: number;
  private streaming = false;
  private failure: Error | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(init: WriterInit) {
    this.ctx = init.ctx;
    this.ref = init.ref;
    this.paths = init.paths;
    this.fh = init.fh;
    this.hash = init.hash;
    this.offset = init.offset;
    this.bytes = init.offset;
    this.expected = init.expected;
    this.startedAt = init.startedAt;
    this.releaseLock = init.release;
    this.ctx.openWriters.add(this);
  }

  /** Bytes in the partial now (offset plus what this writer wrote). */
  get size(): number {
    return this.bytes;
  }

  get isOpen(): boolean {
    return this.fh !== undefined;
  }

  /**
   * A Writable appending to the partial while hashing. Ending it does not commit;
   * one stream at a time, and several in sequence (one per PATCH of an upload) are fine.
   */
  stream(options: { progress?: { descriptor: Descriptor; onEvent: EventSink } } = {}): Writable {
    const report = (bytes: number): void => options.progress?.onEvent({ type: 'bytes', descriptor: options.progress.descriptor, bytes });
    this.usable();
    if (this.streaming) throw new InternalError(`ingest '${this.ref}': a stream is already writing`);
    this.streaming = true;
    const done = () => {
      this.streaming = false;
    };
    return new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _encoding, callback) => {
        this.append([chunk]).then(() => {
          report(chunk.length);
          callback();
        }, callback);
      },
      // Chunks that queued while a write was on disk go down in one writev: socket
      // reads are 16-64 KiB, and one syscall per chunk cost a third of a pull's CPU.
      writev: (chunks, callback) => {
        const buffers = chunks.map((c) => c.chunk as Buffer);
        this.append(buffers).then(() => {
          if (options.progress) for (const b of buffers) report(b.length);
          callback();
        }, callback);
      },
      final: (callback) => {
        done();
        callback();
      },
      destroy: (err, callback) => {
        // Wait for an append still on disk, so whoever reads the offset next sees it.
        void this.pending.then(() => {
          done();
          callback(err);
        });
      },
    });
  }

  private usable(): FileHandle {
    if (!this.fh) throw new InternalError(`ingest '${this.ref}' is closed`);
    if (this.failure) throw this.failure;
    return this.fh;
  }

  /** Serialises appends and lets close/commit wait for a write a destroyed stream left running. */
  private append(chunks: Buffer[]): Promise<void> {
    const next = this.pending.then(() => this.appendNow(chunks));
    this.pending = next.catch(() => undefined);
    return next;
  }

  private async appendNow(chunks: Buffer[]): Promise<void> {
    const fh = this.usable();
    const size = this.expected?.size;
    const length = chunks.reduce((n, c) => n + c.length, 0);
    if (size !== undefined && this.bytes + length > size) {
      // Refuse early rather than fill the disk with a body that cannot match.
      this.failure = this.mismatch('size', size, `more than ${size}`);
      throw this.failure;
    }
    // Hashed here while the thread pool writes the same bytes: the two overlap instead of taking turns.
    const written = writeAll(fh, chunks, length);
    for (const chunk of chunks) this.hash.update(chunk);
    try {
      await written;
    } catch (err) {
      // Bytes on disk and hash state now differ: this writer is done; a reopen re-hashes the file.
      this.failure = err as Error;
      throw err;
    }
    this.bytes += length;
  }

  private mismatch(what: 'size' | 'digest', expected: string | number, actual: string | number, subject = this.ref): IntegrityError {
    const code = what === 'size' ? ErrorCode.sizeMismatch : ErrorCode.digestMismatch;
    const unit = what === 'size' ? ' bytes' : '';
    return new IntegrityError(`${subject}: ${what} mismatch: expected ${expected}${unit}, got ${actual}${unit}`, {
      code,
      subject,
      expected: String(expected),
      actual: String(actual),
    });
  }

  /**
   * size check → digest check → fdatasync → rename into blobs/ → fsync dir → index row;
   * the last three shared with the blobs committing at the same moment (commit-group.ts).
   * The file is made 0444 before the rename so a crash never leaves a writable blob.
   * A mismatch commits nothing, removes the partial and throws IntegrityError.
   */
  commit(expectation: IngestExpectation = {}, options: CommitOptions = {}): Promise<CommitResult> {
    const run = this.pending.then(() => this.commitNow(expectation, options));
    // Set at once: a store closing meanwhile waits for the group to land this blob (close awaits pending).
    this.pending = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async commitNow(expectation: IngestExpectation, options: CommitOptions): Promise<CommitResult> {
    const fh = this.usable();
    if (this.streaming) throw new InternalError(`ingest '${this.ref}': commit while a stream is still writing`);
    const digest = expectation.digest ?? this.expected?.digest;
    if (!digest) throw new UsageError(`ingest '${this.ref}': commit needs the expected digest`);
    const size = expectation.size ?? this.expected?.size;
    const subject = options.subject ?? digest;
    // From here the group's leader waits for this writer's fdatasync before it flushes.
    const announced = commitGroupOf(this.ctx).announce(this.bytes);
    let actual: string;
    try {
      await fh.chmod(0o444);
      const onDisk = (await fh.stat()).size;
      if (onDisk !== this.bytes) throw new InternalError(`ingest '${this.ref}': file holds ${onDisk} bytes, ${this.bytes} were hashed`);
      if (size !== undefined && onDisk !== size) throw this.mismatch('size', size, onDisk, subject);
      actual = `sha256:${this.hash.digest('hex')}`;
      if (actual !== digest) throw this.mismatch('digest', digest, actual, subject);
      await fh.datasync(); // data and size; the directory entry is the group's fsync
      await fh.close();
    } catch (err) {
      announced.cancel();
      await this.discard();
      throw err;
    }
    this.fh = undefined;
    const mediaType = expectation.mediaType ?? this.expected?.mediaType;
    try {
      const plan = { partial: this.paths.partial, digest, size: this.bytes, mediaType, ingestRef: this.ref, inTransaction: options.inTransaction };
      const { existed } = await commitPartial(this.ctx, plan, announced);
      await removeQuietly(this.paths.sidecar);
      return { digest, size: this.bytes, existed };
    } catch (err) {
      // Not committed: leave the verified partial writable and free for a retry.
      await chmod(this.paths.partial, 0o644).catch(() => undefined);
      this.releaseRow();
      throw err;
    } finally {
      announced.cancel(); // a no-op once queued
      this.finish();
    }
  }

  /** Stops writing and keeps the partial, so a later open resumes at its size. */
  async close(): Promise<void> {
    await this.pending;
    const fh = this.fh;
    if (!fh) return;
    this.fh = undefined;
    try {
      await fh.close();
      this.releaseRow();
    } finally {
      this.finish();
    }
  }

  /** Stops writing and deletes the partial, its sidecar and its index row. */
  async abort(): Promise<void> {
    await this.pending;
    if (!this.fh) return;
    await this.discard();
  }

  private async discard(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    try {
      await fh?.close();
      await removeQuietly(this.paths.partial, this.paths.sidecar);
      if (!this.ctx.readOnly && this.ctx.index.db.open) this.ctx.index.ingests.delete(this.ref);
    } finally {
      this.finish();
    }
  }

  /** The index row stays as a GC pin, but no longer names this process as the writer. */
  private releaseRow(): void {
    try {
      if (this.ctx.index.db.open) this.ctx.index.ingests.release(this.ref, process.pid, this.ctx.clock());
    } catch {
      // Best effort: a row left with our pid frees itself when this process exits.
    }
  }

  private finish(): void {
    this.ctx.openWriters.delete(this);
    this.releaseLock();
  }
}

/** Appends `chunks` (`length` bytes in all) at the file position: one writev, then the rest of a short write. */
async function writeAll(fh: FileHandle, chunks: Buffer[], length: number): Promise<void> {
  let done = chunks.length === 1 ? 0 : (await fh.writev(chunks)).bytesWritten;
  if (done === length) return;
  for (const chunk of chunks) {
    if (done >= chunk.length) {
      done -= chunk.length;
      continue;
    }
    for (let off = done; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    done = 0;
  }
}
