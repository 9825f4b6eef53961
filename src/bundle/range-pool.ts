import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Descriptor } from '../core/descriptor.js';
import { FerryError, IntegrityError } from '../core/errors.js';
import { checkHashed } from '../core/hashing.js';
import { outputError } from './output-errors.js';

// sha256 of file ranges on every core, each hasher reading its own ranges with
// plain positional reads into one reused buffer and, when asked, writing them
// at a given offset of an output file. A bundle is many blobs: hashing them on
// all cores at once is what lets `ferry verify` and the bundle writer keep up
// with openssl and cp (bench: one thread through streams spent 30% of its time
// waiting on reads). A blob's own sha256 is sequential, so one large blob still
// runs on one thread. Bytes never cross threads: a job costs one message each
// way whatever its size. The calling thread can be one of the hashers
// (`mainThread`): it has nothing else to do meanwhile, and a worker costs
// ~20 ms of CPU to boot, which is a tenth of a small verify.

/** One range to hash (and maybe copy). */
export interface RangeJob {
  /** What the bytes must be; `size` bytes are read. */
  expected: Pick<Descriptor, 'digest' | 'size'>;
  /** The file holding them, and where they start. */
  path: string;
  start: number;
  /** The file must end right after the range (a store blob is exactly its bytes). */
  wholeFile?: boolean;
  /** Names the culprit in errors: a tar entry, "blob sha256:… in the store". */
  subject: string;
  /** Copy: written at `at` in the pool's output file, after `before` and followed by `after`. */
  copy?: { at: number; before?: Uint8Array; after?: Uint8Array };
}

export interface RangePoolOptions {
  /** Hashing threads in all, the calling thread included when `mainThread` (default: one per core, at most 4). */
  threads?: number;
  /** The calling thread hashes too, between handling the workers' replies; it blocks for one job at a time. */
  mainThread?: boolean;
  /** The file copies are written into (opened for writing, not truncated). */
  output?: string;
  /** Bytes hashed so far, reported every few MiB per hasher. */
  onBytes?: (n: number) => void;
}

interface JobMessage {
  path: string;
  start: number;
  size: number;
  wholeFile: boolean;
  copy: RangeJob['copy'];
}

interface JobResult {
  hex: string;
  /** Bytes read: `size`, fewer when the file is short, one more when it is longer than a wholeFile job allows. */
  read: number;
}

type Reply = { bytes: number } | ({ bytes: number } & JobResult) | { bytes?: undefined; error: { code?: string; message: string } };

const READ_BYTES = 1 << 20;
const REPORT_EVERY = 8 << 20;
/** Jobs queued per worker, so it starts the next one without waiting for the caller's reply. */
const IN_FLIGHT = 2;

/**
 * One job, synchronously. Self-contained (no outer names): its source is also
 * the workers' code, so the calling thread and the workers run the same lines.
 */
export function runRangeJob(
  job: JobMessage,
  buf: Buffer,
  out: number,
  io: Pick<typeof fs, 'openSync' | 'readSync' | 'writeSync' | 'closeSync'>,
  sha256: () => { update(b: Uint8Array): unknown; digest(enc: 'hex'): string },
  report: (bytes: number) => void,
  reportEvery: number,
): JobResult {
  const writeAll = (bytes: Uint8Array, at: number): void => {
    for (let done = 0; done < bytes.length; ) done += io.writeSync(out, bytes, done, bytes.length - done, at + done);
  };
  const fd = io.openSync(job.path, 'r');
  try {
    const hash = sha256();
    let pos = job.start;
    let left = job.size;
    let read = 0;
    let unreported = 0;
    let at = job.copy ? job.copy.at : 0;
    if (job.copy?.before) {
      writeAll(job.copy.before, at);
      at += job.copy.before.length;
    }
    while (left > 0) {
      const n = io.readSync(fd, buf, 0, Math.min(buf.length, left), pos);
      if (n === 0) break;
      const piece = buf.subarray(0, n);
      hash.update(piece);
      if (job.copy) {
        writeAll(piece, at);
        at += n;
      }
      pos += n;
      left -= n;
      read += n;
      unreported += n;
      if (unreported >= reportEvery) {
        report(unreported);
        unreported = 0;
      }
    }
    // One byte more than the descriptor says is a size mismatch, not a match.
    if (left === 0 && job.wholeFile && io.readSync(fd, buf, 0, 1, pos) > 0) read += 1;
    if (left === 0 && job.copy?.after) writeAll(job.copy.after, at);
    if (unreported > 0) report(unreported);
    return { hex: hash.digest('hex'), read };
  } finally {
    io.closeSync(fd);
  }
}

// Inline (eval) so it runs from src under the test runner as well as from dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const runRangeJob = ${runRangeJob.toString()};
const buf = Buffer.allocUnsafe(${READ_BYTES});
const out = workerData.output ? fs.openSync(workerData.output, 'r+') : -1;
const report = (bytes) => parentPort.postMessage({ bytes });
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage({ bytes: 0, ...runRangeJob(job, buf, out, fs, () => createHash('sha256'), report, ${REPORT_EVERY}) });
  } catch (err) {
    parentPort.postMessage({ error: { code: err.code, message: err.message } });
  }
});
`;

function messageOf(job: RangeJob): JobMessage {
  return { path: job.path, start: job.start, size: job.expected.size, wholeFile: job.wholeFile === true, copy: job.copy };
}

/** Hashing threads for one run of jobs; close() ends them. */
export class RangePool {
  private readonly workers: Worker[];
  private readonly options: RangePoolOptions;
  private closed = false;
  /** Why a worker can take no more jobs. */
  private broken: Error | undefined;

  constructor(options: RangePoolOptions = {}) {
    this.options = options;
    const threads = Math.max(1, options.threads ?? Math.min(availableParallelism(), 4));
    const workers = options.mainThread ? threads - 1 : threads;
    // Started now: they boot while the caller reads what it needs to plan the jobs.
    this.workers = Array.from({ length: workers }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { output: options.output } });
      // A worker that dies between jobs (its output cannot be opened) fails the next run, not the process.
      worker.on('error', (err: Error) => (this.broken ??= err));
      worker.on('exit', () => (this.broken ??= new Error('a hashing thread exited')));
      return worker;
    });
  }

  /**
   * Hashes (and copies) every job: workers take the largest first, the calling
   * thread (mainThread) the smallest. Resolves when all match; rejects with the
   * first that does not (an IntegrityError naming its subject) or cannot be
   * read, once the jobs in flight have finished. `onDone` sees each match.
   */
  run(jobs: readonly RangeJob[], onDone?: (job: RangeJob) => void, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the range pool is closed'));
    const queue = [...jobs].sort((a, b) => b.expected.size - a.expected.size);
    return new Promise<void>((resolve, reject) => {
      let failure: Error | undefined;
      let active = 0;
      let settled = false;
      const detach: Array<() => void> = [];
      const stopping = (): boolean => {
        failure ??= this.broken;
        if (!failure && signal?.aborted) failure = signal.reason instanceof Error ? signal.reason : new Error('aborted');
        return failure !== undefined;
      };
      const take = (from: 'largest' | 'smallest'): RangeJob | undefined => {
        if (queue.length === 0 || stopping()) return undefined;
        active += 1;
        return from === 'largest' ? queue.shift() : queue.pop();
      };
      const finish = (): void => {
        if (active > 0 || settled || (queue.length > 0 && !stopping())) return;
        settled = true;
        for (const off of detach) off();
        if (failure) reject(failure);
        else resolve();
      };
      const settle = (job: RangeJob, result: JobResult | Error): void => {
        active -= 1;
        const error = result instanceof Error ? result : (checkHashed(job.expected, result.read, result.hex, job.subject) ?? undefined);
        failure ??= error;
        if (!error) onDone?.(job);
      };
      for (const worker of this.workers) {
        const inFlight: RangeJob[] = [];
        const feed = (): void => {
          for (let job; inFlight.length < IN_FLIGHT && (job = take('largest')); ) {
            inFlight.push(job);
            worker.postMessage(messageOf(job));
          }
          finish();
        };
        const onMessage = (reply: Reply): void => {
          if (reply.bytes) this.options.onBytes?.(reply.bytes);
          if (!('error' in reply) && !('hex' in reply)) return;
          const job = inFlight.shift() as RangeJob;
          settle(job, 'error' in reply ? ioError(job, reply.error, this.options.output) : reply);
          feed();
        };
        // A worker gone mid-job fails the run: its jobs will never answer.
        const onExit = (): void => {
          for (const job of inFlight.splice(0)) settle(job, this.broken ?? new Error('a hashing thread exited'));
          finish();
        };
        worker.on('message', onMessage).on('exit', onExit);
        detach.push(() => worker.off('message', onMessage).off('exit', onExit));
        feed();
      }
      if (this.options.mainThread) {
        // The smallest jobs, one at a time, yielding to the workers' replies between them.
        const buf = Buffer.allocUnsafe(READ_BYTES);
        const out = this.options.output ? fs.openSync(this.options.output, 'r+') : -1;
        const report = (n: number): void => this.options.onBytes?.(n);
        const help = (): void => {
          const job = take('smallest');
          if (!job) {
            if (out >= 0) fs.closeSync(out);
            finish();
            return;
          }
          try {
            settle(job, runRangeJob(messageOf(job), buf, out, fs, () => createHash('sha256'), report, REPORT_EVERY));
          } catch (err) {
            const e = err as NodeJS.ErrnoException;
            settle(job, ioError(job, { ...(e.code ? { code: e.code } : {}), message: e.message }, this.options.output));
          }
          setImmediate(help);
        };
        help();
      }
      finish();
    });
  }

  /** Ends the threads; a run still going fails. Callers that are done need not await it. */
  close(): Promise<unknown> {
    this.closed = true;
    return Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function ioError(job: RangeJob, error: { code?: string; message: string }, output: string | undefined): FerryError {
  if (error.code === 'ENOENT') return new IntegrityError(`${job.subject}: missing (${job.path})`, { subject: job.subject });
  const refused = job.copy && output ? outputError(error.code, output) : undefined;
  if (refused) return refused;
  return new IntegrityError(`${job.subject}: cannot be ${job.copy ? 'copied' : 'read'}: ${error.message}`, { subject: job.subject });
}
