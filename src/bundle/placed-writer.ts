import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Descriptor } from '../core/descriptor.js';
import { checkHashed, verifyStream } from '../core/hashing.js';
import { fromBlobSource } from '../core/range-pool.js';
import type { EventSink } from '../core/progress-events.js';
import type { HashThread } from './offthread-hash.js';
import { pipedCopy } from './piped-copy.js';
import type { RangeJob, RangePool } from './range-pool.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, paddingFor, TAR_BLOCK, ustarHeader } from './ustar.js';
import type { TarFiles } from './volume-split.js';

// The one tar serialiser (design §4: the same input gives the same bytes).
// Each entry's offset follows from the entry list, so every entry is placed
// at its offset: ustar header, data, zero padding, then the end of archive.
// The bytes go to TarFiles, which cuts them into volumes or keeps only one
// volume's window. Data is checked against its digest as it is copied: one
// read, one hash, one write per byte (a file this process hashed as it wrote
// it has its size checked only: sizeOnly). Two ways to run the copies, same bytes:
// - in tar order on this thread (volumes, whose sha256s are taken in order; a
//   file system that zero-fills gaps; blobs that only stream);
// - a single file on a file system that keeps sparse gaps: the local files
//   are copied by a RangePool on every core at once, out of order (writer.ts
//   copiesOnPool says when, and what it was measured to gain); a blob that is
//   most of the bundle is copied by this thread meanwhile, hashed by another
//   (piped-copy.ts).

/**
 * One tar entry: bytes in memory, a local file, or a stream; a file or stream must hold exactly `expected`.
 * `carried`: a blob or tool, whose bytes the write phase counts. `sizeOnly`: a file this process
 * hashed as it wrote it, whose size is checked as it is copied, not its digest again.
 */
export type PlacedEntry =
  | { name: string; bytes: Buffer; carried?: boolean }
  | { name: string; file: string; expected: Pick<Descriptor, 'digest' | 'size'>; subject: string; carried?: boolean; sizeOnly?: boolean }
  | { name: string; open: () => Promise<Readable | Buffer>; expected: Pick<Descriptor, 'digest' | 'size'>; subject: string; carried?: boolean };

function dataSize(entry: PlacedEntry): number {
  return 'bytes' in entry ? entry.bytes.length : entry.expected.size;
}

/** The tar offset of each entry, and the tar's size. */
export function tarLayout(entries: readonly PlacedEntry[]): { offsets: number[]; size: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const entry of entries) {
    offsets.push(at);
    at += TAR_BLOCK + paddedSize(dataSize(entry));
  }
  return { offsets, size: at + END_OF_ARCHIVE_BYTES };
}

export interface PlaceOptions {
  mtime: Date;
  files: TarFiles;
  /** Copies the local files out of order on every core, into `files.partialPath` (a single file). */
  pool?: RangePool;
  /** Hears the `bytes` of carried entries as they land: the write phase's own total. */
  onEvent?: EventSink;
  signal?: AbortSignal;
  /** Local files of at least `minBytes` are copied by this thread and hashed on `thread` (piped-copy.ts), beside the pool; a single file only. */
  pipe?: { thread: HashThread; minBytes: number; onEvent?: EventSink };
}

/** Bytes per read of a local file copied in tar order. */
const COPY_BYTES = 1 << 20;

/** Writes `entries` as one tar into `opts.files`; resolves to the tar's size. Rejects with the first entry that does not match its digest. */
export async function placeTar(entries: readonly PlacedEntry[], opts: PlaceOptions): Promise<number> {
  const { offsets, size } = tarLayout(entries);
  const { files, onEvent } = opts;
  files.expectSize(size);
  const jobs: RangeJob[] = [];
  const piped: Array<(signal: AbortSignal) => Promise<void>> = [];
  let buf: Buffer | undefined;
  for (const [i, entry] of entries.entries()) {
    const at = offsets[i] as number;
    const length = dataSize(entry);
    const dataAt = at + TAR_BLOCK;
    if (!files.overlaps(at, dataAt + paddedSize(length))) continue;
    opts.signal?.throwIfAborted();
    const header = ustarHeader(entry.name, length, opts.mtime);
    if ('bytes' in entry) {
      await files.write(Buffer.concat([header, entry.bytes, paddingFor(length)]), at);
      if (entry.carried) onEvent?.({ type: 'bytes', bytes: length });
    } else if (opts.pipe && 'file' in entry && !entry.sizeOnly && length >= opts.pipe.minBytes) {
      const { thread, onEvent: heard } = opts.pipe;
      const output = files.partialPath;
      piped.push((signal) => pipedCopy(entry, at, header, paddingFor(length), { thread, output, onEvent: entry.carried ? heard : undefined, signal }));
    } else if (opts.pool && 'file' in entry) {
      const copy = { at, before: header, after: paddingFor(length) };
      jobs.push({ expected: entry.expected, path: entry.file, start: 0, wholeFile: true, subject: entry.subject, copy, ...(entry.carried ? {} : { silent: true }), ...(entry.sizeOnly ? { sizeOnly: true } : {}) });
    } else {
      await files.write(header, at);
      // Read whole, checked whole, even when only part of it lands in the window.
      if (files.overlaps(dataAt, dataAt + length)) {
        const heard = entry.carried ? onEvent : undefined;
        if ('file' in entry) await copyFileIn(entry, dataAt, opts, (buf ??= Buffer.allocUnsafe(COPY_BYTES)), heard);
        else await copyIn(entry, dataAt, opts, heard);
      }
      await files.write(paddingFor(length), dataAt + length);
    }
  }
  await files.write(Buffer.alloc(END_OF_ARCHIVE_BYTES), size - END_OF_ARCHIVE_BYTES);
  await copyAtOnce(jobs, piped, opts);
  return size;
}

/** Runs the pool's jobs and the piped copies (one after another) side by side; the first failure stops both, and is the one thrown once both have stopped. */
async function copyAtOnce(jobs: readonly RangeJob[], piped: ReadonlyArray<(signal: AbortSignal) => Promise<void>>, opts: PlaceOptions): Promise<void> {
  const halt = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, halt.signal]) : halt.signal;
  let first: unknown;
  const stopOnFailure = (run: Promise<void>): Promise<void> =>
    run.catch((err: unknown) => {
      if (first === undefined) first = err;
      halt.abort(err);
    });
  const inTurn = async (): Promise<void> => {
    for (const copy of piped) await copy(signal);
  };
  const runs: Array<Promise<void>> = [stopOnFailure(inTurn())];
  if (jobs.length > 0 && opts.pool) runs.push(stopOnFailure(opts.pool.run(jobs, undefined, signal)));
  await Promise.all(runs);
  if (first !== undefined) throw first;
}

/**
 * Copies one local file into the tar at `at` through one reused buffer, checked as
 * it goes (its size only, sizeOnly). Positional reads on this thread: a read
 * stream's fresh 1 MiB buffer per chunk kept the collector busy (124 ms of a
 * 313 MB in-order write's profile) and each read took a turn of the event loop.
 */
async function copyFileIn(entry: Extract<PlacedEntry, { file: string }>, at: number, opts: PlaceOptions, buf: Buffer, onEvent: EventSink | undefined): Promise<void> {
  const fd = fromBlobSource(entry, () => openSync(entry.file, 'r'));
  try {
    const hash = entry.sizeOnly ? undefined : createHash('sha256');
    const { size } = entry.expected;
    let read = 0;
    while (read < size) {
      opts.signal?.throwIfAborted();
      const n = fromBlobSource(entry, () => readSync(fd, buf, 0, Math.min(buf.length, size - read), read));
      if (n === 0) break;
      const piece = buf.subarray(0, n);
      hash?.update(piece);
      await opts.files.write(piece, at + read);
      read += n;
      onEvent?.({ type: 'bytes', bytes: n });
    }
    // One byte more than the descriptor says is a size mismatch, not a match.
    if (read === size && fromBlobSource(entry, () => readSync(fd, buf, 0, 1, read)) > 0) read += 1;
    const bad = checkHashed(entry.expected, read, hash?.digest('hex'), entry.subject);
    if (bad) throw bad;
  } finally {
    closeSync(fd);
  }
}

/** Streams one source entry through its digest check into the tar at `at`. */
async function copyIn(entry: Extract<PlacedEntry, { open: unknown }>, at: number, opts: PlaceOptions, onEvent: EventSink | undefined): Promise<void> {
  const opened = await entry.open();
  const source = Buffer.isBuffer(opened) ? [opened] : opened;
  let position = at;
  await pipeline(
    source,
    verifyStream(entry.expected, entry.subject),
    async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        await opts.files.write(chunk, position);
        position += chunk.length;
        onEvent?.({ type: 'bytes', bytes: chunk.length });
      }
    },
    opts.signal ? { signal: opts.signal } : {},
  );
}
