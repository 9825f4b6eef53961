// @ts-check
// One range-hashing job, synchronously: plain JavaScript so that a worker thread
// loads it as it is, from dist/ and from src/ under the test runner alike (Node
// cannot load TypeScript). range-worker.js runs it on a worker, range-pool.ts on
// the calling thread: both run these same lines.
import { createHash, hash } from 'node:crypto';

/** Bytes read per positional read. */
export const READ_BYTES = 1 << 20;
/** A hasher reports progress every this many bytes. */
export const REPORT_EVERY = 8 << 20;
/**
 * Jobs this small travel in batches of up to BATCH_BYTES (and BATCH_JOBS): a
 * bundle of 4,000 small blobs cost one worker message, one open and one read
 * per blob, several times the hashing itself.
 */
export const BATCH_BYTES = READ_BYTES;
export const BATCH_JOBS = 1024;

/**
 * @typedef {object} JobMessage
 * @property {string} path
 * @property {number} start
 * @property {number} size
 * @property {boolean} wholeFile
 * @property {{ at: number; before?: Uint8Array; after?: Uint8Array } | undefined} copy
 * @property {boolean} [sizeOnly] bytes counted (and copied), not hashed
 * @property {Array<{ at: number; size: number }>} [inner] ranges inside this one (`at` from `start`, in order,
 *   not overlapping), each hashed too from the same reads: a volume and the blobs it holds, read once
 */

/**
 * @typedef {object} JobResult
 * @property {string | undefined} hex sha256 of the bytes read; undefined for a sizeOnly job
 * @property {number} read bytes read: `size`, fewer when the file is short, one more when a wholeFile job finds more
 * @property {string[]} [inner] sha256 of each inner range, in order (of the bytes there were)
 */

/** @typedef {JobResult | { error: { code?: string; message: string } }} BatchResult */

/**
 * @typedef {object} JobIo
 * @property {(path: string, flags: string) => number} openSync
 * @property {(fd: number, buf: Uint8Array, offset: number, length: number, position: number) => number} readSync
 * @property {(fd: number, buf: Uint8Array, offset: number, length: number, position: number) => number} writeSync
 * @property {(fd: number) => void} closeSync
 */

/**
 * Hashes `job.size` bytes of `job.path` from `job.start` (counts them, sizeOnly) in `buf`-sized
 * reads and, for a copy, writes them at `job.copy.at` of the open file `out`.
 * @param {JobMessage} job
 * @param {Buffer} buf
 * @param {number} out
 * @param {JobIo} io
 * @param {(bytes: number) => void} report
 * @returns {JobResult}
 */
export function runRangeJob(job, buf, out, io, report) {
  /** @type {(bytes: Uint8Array, at: number) => void} */
  const writeAll = (bytes, at) => {
    for (let done = 0; done < bytes.length; ) done += io.writeSync(out, bytes, done, bytes.length - done, at + done);
  };
  const fd = io.openSync(job.path, 'r');
  try {
    const hasher = job.sizeOnly ? undefined : createHash('sha256');
    const inner = job.inner?.map((r) => ({ from: r.at, to: r.at + r.size, hash: createHash('sha256') }));
    /** The first inner range not yet past: they are in order, so each piece starts its search there. */
    let next = 0;
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
      hasher?.update(piece);
      if (inner) {
        const rel = pos - job.start;
        while (next < inner.length && /** @type {{ to: number }} */ (inner[next]).to <= rel) next += 1;
        for (let i = next; i < inner.length; i++) {
          const r = /** @type {{ from: number; to: number; hash: import('node:crypto').Hash }} */ (inner[i]);
          if (r.from >= rel + n) break;
          r.hash.update(piece.subarray(Math.max(r.from - rel, 0), Math.min(r.to - rel, n)));
        }
      }
      if (job.copy) {
        writeAll(piece, at);
        at += n;
      }
      pos += n;
      left -= n;
      read += n;
      unreported += n;
      if (unreported >= REPORT_EVERY) {
        report(unreported);
        unreported = 0;
      }
    }
    // One byte more than the descriptor says is a size mismatch, not a match.
    if (left === 0 && job.wholeFile && io.readSync(fd, buf, 0, 1, pos) > 0) read += 1;
    if (left === 0 && job.copy?.after) writeAll(job.copy.after, at);
    if (unreported > 0) report(unreported);
    return { hex: hasher?.digest('hex'), read, ...(inner ? { inner: inner.map((r) => r.hash.digest('hex')) } : {}) };
  } finally {
    io.closeSync(fd);
  }
}

/**
 * Runs a batch of jobs, one result (or error) per job in order. Ranges of one
 * file that lie close together, with no copy and no whole-file check (the
 * blobs of a bundle), are read with one read and hashed from the buffer; any
 * other batch runs job by job.
 * @param {JobMessage[]} jobs
 * @param {Buffer} buf
 * @param {number} out
 * @param {JobIo} io
 * @param {(bytes: number) => void} report
 * @returns {BatchResult[]}
 */
export function runRangeBatch(jobs, buf, out, io, report) {
  const first = jobs[0];
  const last = jobs[jobs.length - 1];
  const spanned =
    first !== undefined &&
    last !== undefined &&
    jobs.length > 1 &&
    last.start + last.size - first.start <= buf.length &&
    jobs.every((j, i) => j.path === first.path && !j.wholeFile && !j.copy && !j.inner && (i === 0 || j.start >= /** @type {JobMessage} */ (jobs[i - 1]).start));
  if (!spanned) {
    // Progress once per batch (or every REPORT_EVERY bytes), not once per small job.
    let unreported = 0;
    /** @param {number} n */
    const gather = (n) => {
      unreported += n;
      if (unreported < REPORT_EVERY) return;
      report(unreported);
      unreported = 0;
    };
    const results = jobs.map((job) => attempt(() => runRangeJob(job, buf, out, io, gather)));
    if (unreported > 0) report(unreported);
    return results;
  }
  /** @type {number} */
  let got;
  try {
    got = readSpan(first.path, first.start, last.start + last.size - first.start, buf, io);
  } catch (err) {
    const failed = attempt(() => {
      throw err;
    });
    return jobs.map(() => failed);
  }
  let bytes = 0;
  const results = jobs.map((job) => {
    const from = job.start - first.start;
    // A file cut short: the bytes that are there, as runRangeJob would count them.
    const read = Math.max(0, Math.min(job.size, got - from));
    bytes += read;
    // One call, no Hash object: 4,306 blobs of 2-4 KB hash in 17.3 ms this way, 21.5 ms through createHash.
    return { hex: hash('sha256', buf.subarray(from, from + read), 'hex'), read };
  });
  if (bytes > 0) report(bytes);
  return results;
}

/**
 * @param {() => JobResult} run
 * @returns {BatchResult}
 */
function attempt(run) {
  try {
    return run();
  } catch (err) {
    const e = /** @type {NodeJS.ErrnoException} */ (err);
    return { error: { ...(e.code ? { code: e.code } : {}), message: e.message } };
  }
}

/**
 * Reads `length` bytes of `path` from `start` into `buf`: how many there were.
 * @param {string} path
 * @param {number} start
 * @param {number} length
 * @param {Buffer} buf
 * @param {JobIo} io
 */
function readSpan(path, start, length, buf, io) {
  const fd = io.openSync(path, 'r');
  try {
    let got = 0;
    while (got < length) {
      const n = io.readSync(fd, buf, got, length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  } finally {
    io.closeSync(fd);
  }
}
