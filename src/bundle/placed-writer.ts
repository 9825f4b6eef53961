import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Descriptor } from '../core/descriptor.js';
import { UsageError } from '../core/errors.js';
import type { EventSink } from '../core/progress-events.js';
import { outputError } from './output-errors.js';
import { RangePool } from './range-pool.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, paddingFor, TAR_BLOCK, ustarHeader } from './ustar.js';
import { syncDir } from './volume-split.js';

// A single-file bundle written by placing each entry at its offset, blobs
// copied from local files (the store) by every core at once, each hashed
// against its digest as it is copied: one read, one hash, one write per byte
// (the streaming writer hashed every byte twice, the second time for a
// whole-tar sha256 that only volume lists need, and copied on one thread). The
// layout is the streaming writer's, byte for byte (test/bundle/placed-writer.test.ts).
// Writes land out of order, so this runs only on file systems that leave the
// gap before an offset unwritten (ext4, xfs, btrfs, tmpfs…): FAT and exFAT
// would zero-fill every gap first. The file is `OUT.partial` until it is
// complete and fsynced.

/** One tar entry: bytes in memory, or a local file that must hold exactly the descriptor's bytes. `carried`: a blob or tool, whose bytes the write phase counts. */
export type PlacedEntry =
  | { name: string; bytes: Buffer; carried?: boolean }
  | { name: string; file: string; expected: Pick<Descriptor, 'digest' | 'size'>; subject: string; carried?: boolean };

/** An open `OUT.partial`, and the threads that will copy into it (booting while the caller builds the head). */
export class PlacedBundle {
  private readonly out: string;
  private readonly handle: FileHandle;
  private readonly pool: RangePool;
  private readonly onEvent: EventSink | undefined;

  private constructor(out: string, handle: FileHandle, pool: RangePool, onEvent: EventSink | undefined) {
    this.out = out;
    this.handle = handle;
    this.pool = pool;
    this.onEvent = onEvent;
  }

  /** `onEvent` hears the `bytes` of carried entries as they land: the write phase's own total. */
  static async create(out: string, onEvent?: EventSink): Promise<PlacedBundle> {
    const temp = `${out}.partial`;
    const handle = await open(temp, 'w', 0o644).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot write the bundle to ${out}: ${err.code === 'ENOENT' ? 'its directory does not exist' : err.message}`, { cause: err });
    });
    return new PlacedBundle(out, handle, new RangePool({ output: temp, mainThread: true, ...(onEvent ? { onEvent } : {}) }), onEvent);
  }

  /**
   * Writes `entries` in order, each as ustar header + data + padding, then the
   * end of archive; fsyncs and renames into place. Resolves to the tar size.
   * Rejects with the first blob that does not match its digest, leaving nothing.
   */
  async write(entries: readonly PlacedEntry[], mtime: Date, onBlob?: (subject: string) => void, signal?: AbortSignal): Promise<number> {
    try {
      let offset = 0;
      const jobs = [];
      for (const entry of entries) {
        const size = 'bytes' in entry ? entry.bytes.length : entry.expected.size;
        const header = ustarHeader(entry.name, size, mtime);
        if ('bytes' in entry) {
          await this.writeAt(Buffer.concat([header, entry.bytes, paddingFor(size)]), offset);
          if (entry.carried) this.onEvent?.({ type: 'bytes', bytes: size });
        } else {
          const copy = { at: offset, before: header, after: paddingFor(size) };
          jobs.push({ expected: entry.expected, path: entry.file, start: 0, wholeFile: true, subject: entry.subject, copy, ...(entry.carried ? {} : { silent: true }) });
        }
        offset += TAR_BLOCK + paddedSize(size);
      }
      await this.writeAt(Buffer.alloc(END_OF_ARCHIVE_BYTES), offset);
      await this.pool.run(jobs, onBlob ? (job) => onBlob(job.subject) : undefined, signal);
      await this.handle.sync();
      await this.handle.close();
      await rename(`${this.out}.partial`, this.out);
      await syncDir(dirname(this.out));
      return offset + END_OF_ARCHIVE_BYTES;
    } catch (err) {
      throw outputError((err as NodeJS.ErrnoException).code, this.out) ?? err;
    } finally {
      void this.pool.close();
    }
  }

  /** Closes and removes the partial file; after a failure. */
  async abort(): Promise<void> {
    void this.pool.close();
    await this.handle.close().catch(() => undefined);
    await rm(`${this.out}.partial`, { force: true });
  }

  private async writeAt(bytes: Buffer, at: number): Promise<void> {
    for (let done = 0; done < bytes.length; ) done += (await this.handle.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
  }
}
