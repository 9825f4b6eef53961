import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Descriptor } from './descriptor.js';
import type { EventSink } from './progress-events.js';
import { FerryError, IntegrityError } from './errors.js';
import { checkHashed } from './hashing.js';
import { HASH_ALONE_BYTES } from './limits.js';
import { BATCH_BYTES, BATCH_JOBS, READ_BYTES, runRangeBatch, type BatchResult, type JobMessage } from './range-job.js';

// sha256 of file ranges on every core, each hasher reading its own ranges with
// plain positional reads into one reused buffer and, when asked, writing them
// at a given offset of an output file. A bundle or a store is many blobs:
// hashing them on all cores at once is what lets `ferry verify`, `ferry store
// verify` and the bundle writer keep up with openssl and cp (bench: one thread
// through streams spent 30% of its time waiting on reads). A blob's own sha256
// is sequential, so one large blob still runs on one thread. Bytes never cross
// threads: a job costs one message each way whatever its size, and small jobs
// travel in batches (one message, one read for neighbouring ranges of a file). The calling
// thread can be one of the hashers (`mainThread`): it has nothing else to do
// meanwhile, and a worker costs ~20 ms of CPU to boot. The workers run
// range-worker.js, a real module (plain JavaScript, so it loads from src/ under
// the test runner as well as from dist/); the CLI's bundle starts its CommonJS
// entry of it instead (scripts/bundle-cli.mjs rewrites this URL).

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
  /** Its bytes are not the phase's (a bundle's own index.db): no `bytes` event for them. */
  silent?: boolean;
  /** Counted (and copied), not hashed: bytes this process hashed as it wrote them (WriteBundleOptions.hashedHere). */
  sizeOnly?: boolean;
  /**
   * Ranges inside this one (`at` from `start`, in order, not overlapping), each checked against its own
   * digest from the same reads: a volume and the blobs it holds, read once. A mismatch of the range
   * itself is reported before one of its inner ranges.
   */
  inner?: ReadonlyArray<{ expected: Pick<Descriptor, 'digest' | 'size'>; at: number; subject: string }>;
}

export interface RangePoolOptions {
  /** Hashing threads in all, the calling thread included when `mainThread` (default: one per core, at most 4). */
  threads?: number;
  /** The calling thread hashes too, between handling the workers' replies; it blocks for one job at a time. */
  mainThread?: boolean;
  /** The bytes the runs will hash in all: with `mainThread`, fewer than HASH_ALONE_BYTES are hashed on the calling thread alone (a worker costs more to boot), sizeOnly copies with them. */
  bytes?: number;
  /** The file copies are written into (opened for writing, not truncated). */
  output?: string;
  /** The one progress channel: `bytes` hashed (and copied), every few MiB per hasher. */
  onEvent?: EventSink;
  /** Turns a failed write into the output (disk full, file too large) into the caller's error; default: none. */
  outputError?: (code: string | undefined, output: string) => FerryError | undefined;
}

type Reply = { bytes: number; results?: BatchResult[] };

/** Jobs queued per worker, so it starts the next one without waiting for the caller's reply. */
const IN_FLIGHT = 2;
const WORKER_URL = new URL('./range-worker.js', import.meta.url);

export interface RunOptions {
  /**
   * Report each job that does not match or cannot be read here and go on with
   * the rest (`ferry store verify` wants every bad blob); without it, the run
   * rejects with the first one.
   */
  onBad?: (job: RangeJob, error: FerryError) => void;
}

function messageOf(job: RangeJob): JobMessage {
  return {
    path: job.path,
    start: job.start,
    size: job.expected.size,
    wholeFile: job.wholeFile === true,
    copy: job.copy,
    ...(job.sizeOnly ? { sizeOnly: true } : {}),
    ...(job.inner ? { inner: job.inner.map((r) => ({ at: r.at, size: r.expected.size })) } : {}),
  };
}

/** Hashing threads for one run of jobs; close() ends them. */
export class RangePool {
  private readonly workers: Worker[];
  private readonly options: RangePoolOptions;
  private closed = false;
  /** Why a worker can take no more jobs. */
  private broken: Error | undefined;
  /** Batches handed out so far (a worker message, or a turn of the calling thread): a test counts them. */
  batches = 0;

  constructor(options: RangePoolOptions = {}) {
    this.options = options;
    const alone = options.mainThread === true && options.bytes !== undefined && options.bytes < HASH_ALONE_BYTES;
    const threads = alone ? 1 : Math.max(1, options.threads ?? Math.min(availableParallelism(), 4));
    const workers = options.mainThread ? threads - 1 : threads;
    // Started now: they boot while the caller reads what it needs to plan the jobs.
    this.workers = Array.from({ length: workers }, () => {
      const worker = new Worker(WORKER_URL, { workerData: { output: options.output } });
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
  run(jobs: readonly RangeJob[], onDone?: (job: RangeJob) => void, signal?: AbortSignal, runOptions: RunOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the range pool is closed'));
    const queue = batchesOf(jobs);
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
      const take = (from: 'largest' | 'smallest'): RangeJob[] | undefined => {
        if (queue.length === 0 || stopping()) return undefined;
        active += 1;
        this.batches += 1;
        return from === 'largest' ? queue.shift() : queue.pop();
      };
      const finish = (): void => {
        if (active > 0 || settled || (queue.length > 0 && !stopping())) return;
        settled = true;
        for (const off of detach) off();
        if (failure) reject(failure);
        else resolve();
      };
      const settle = (job: RangeJob, result: BatchResult | Error): void => {
        const error =
          result instanceof Error ? result : 'error' in result ? ioError(job, result.error, this.options) : (checkHashed(job.expected, result.read, result.hex, job.subject) ?? innerMismatch(job, result.inner));
        if (error && runOptions.onBad && error instanceof FerryError && !this.broken) runOptions.onBad(job, error);
        else failure ??= error;
        if (!error) onDone?.(job);
      };
      const settleBatch = (batch: RangeJob[], results: readonly BatchResult[] | Error): void => {
        active -= 1;
        batch.forEach((job, i) => settle(job, results instanceof Error ? results : (results[i] as BatchResult)));
      };
      for (const worker of this.workers) {
        const inFlight: RangeJob[][] = [];
        const feed = (): void => {
          for (let batch; inFlight.length < IN_FLIGHT && (batch = take('largest')); ) {
            inFlight.push(batch);
            worker.postMessage(batch.map(messageOf));
          }
          finish();
        };
        const onMessage = (reply: Reply): void => {
          // A worker runs its batches in order: progress belongs to the first in flight (a silent job goes alone).
          if (reply.bytes) this.reported(inFlight[0]?.[0], reply.bytes);
          if (!reply.results) return;
          settleBatch(inFlight.shift() as RangeJob[], reply.results);
          feed();
        };
        // A worker gone mid-job fails the run: its jobs will never answer.
        const onExit = (): void => {
          for (const batch of inFlight.splice(0)) settleBatch(batch, this.broken ?? new Error('a hashing thread exited'));
          finish();
        };
        worker.on('message', onMessage).on('exit', onExit);
        detach.push(() => worker.off('message', onMessage).off('exit', onExit));
        feed();
      }
      if (this.options.mainThread) {
        // The smallest batches, one at a time, yielding to the workers' replies between them.
        const buf = Buffer.allocUnsafe(READ_BYTES);
        const out = this.options.output ? fs.openSync(this.options.output, 'r+') : -1;
        const help = (): void => {
          const batch = take('smallest');
          if (!batch) {
            if (out >= 0) fs.closeSync(out);
            finish();
            return;
          }
          settleBatch(batch, runRangeBatch(batch.map(messageOf), buf, out, fs, (n) => this.reported(batch[0], n)));
          setImmediate(help);
        };
        help();
      }
      finish();
    });
  }

  private reported(job: RangeJob | undefined, bytes: number): void {
    if (!job?.silent) this.options.onEvent?.({ type: 'bytes', bytes });
  }

  /** Ends the threads; a run still going fails. Callers that are done need not await it. */
  close(): Promise<unknown> {
    this.closed = true;
    return Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * The jobs as batches, largest first: a job of BATCH_BYTES / 4 or more alone (and a silent one,
 * whose progress is not reported),
 * the smaller ones in file order, packed up to BATCH_BYTES of file span (or
 * bytes, across files) and BATCH_JOBS jobs.
 */
function batchesOf(jobs: readonly RangeJob[]): RangeJob[][] {
  const alone: RangeJob[][] = [];
  const small: RangeJob[] = [];
  for (const job of jobs) (job.silent || job.expected.size >= BATCH_BYTES / 4 ? alone.push([job]) : small.push(job));
  small.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.start - b.start));
  const packed: RangeJob[][] = [];
  let batch: RangeJob[] = [];
  let bytes = 0;
  for (const job of small) {
    const first = batch[0];
    const spanned = first !== undefined && first.path === job.path && !job.wholeFile && !job.copy;
    const cost = spanned ? job.start + job.expected.size - first.start : bytes + job.expected.size;
    if (first && (cost > BATCH_BYTES || batch.length >= BATCH_JOBS)) {
      packed.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(job);
    bytes += job.expected.size;
  }
  if (batch.length > 0) packed.push(batch);
  const sized = [...alone, ...packed].map((b) => ({ b, size: b.reduce((n, j) => n + j.expected.size, 0) }));
  return sized.sort((x, y) => y.size - x.size).map((x) => x.b);
}

/** The first inner range (RangeJob.inner) whose bytes are not its digest, as its error; the range itself read whole. */
function innerMismatch(job: RangeJob, hexes: readonly string[] | undefined): IntegrityError | undefined {
  for (const [i, r] of (job.inner ?? []).entries()) {
    const error = checkHashed(r.expected, r.expected.size, hexes?.[i] ?? '', r.subject);
    if (error) return error;
  }
  return undefined;
}

function ioError(job: RangeJob, error: { code?: string; message: string }, options: RangePoolOptions): FerryError {
  const refused = error.code !== 'ENOENT' && job.copy && options.output ? options.outputError?.(error.code, options.output) : undefined;
  return refused ?? blobSourceError(job.subject, job.path, error, job.copy ? 'copied' : 'read');
}

/** One wording for a blob whose source file cannot be opened or read, whichever copier met it. */
export function blobSourceError(subject: string, path: string, error: { code?: string | undefined; message: string }, verb: 'copied' | 'read'): IntegrityError {
  const why = error.code === 'ENOENT' ? `missing (${path})` : `cannot be ${verb}: ${error.message}`;
  return new IntegrityError(`${subject}: ${why}`, { subject });
}

/** Runs a read of a blob's local file: a file that cannot be opened or read is the blob's fault, named so. */
export function fromBlobSource<T>(blob: { subject: string; file: string }, run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw blobSourceError(blob.subject, blob.file, err as NodeJS.ErrnoException, 'copied');
  }
}
