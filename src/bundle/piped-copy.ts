import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { Descriptor } from '../core/descriptor.js';
import { fromBlobSource } from '../core/range-pool.js';
import { checkHashed } from '../core/hashing.js';
import type { EventSink } from '../core/progress-events.js';
import type { HashThread } from './offthread-hash.js';

// One blob copied by two threads at once: this one reads it into a shared ring
// and writes it out from there, a HashThread hashes the same bytes meanwhile.
// A blob that is most of the bundle (writer.ts pipeBlob says when) would
// otherwise keep one pool thread reading, hashing and writing in turn while the
// other core has nothing left to do: its sha256 is sequential, and it cannot be
// cut between threads as a set of blobs can. Each byte is still read once and
// hashed once, and the blob is refused, naming it, unless its digest and size match.

/** Bytes read (and queued for hashing) at a time. */
const PIECE = 1 << 20;
/** Progress every this many bytes. */
const REPORT_EVERY = 8 << 20;

export interface PipedBlob {
  file: string;
  expected: Pick<Descriptor, 'digest' | 'size'>;
  subject: string;
}

export interface PipeOptions {
  thread: HashThread;
  /** The file the tar is placed in (opened for writing, not truncated). */
  output: string;
  onEvent?: EventSink | undefined;
  signal?: AbortSignal | undefined;
}

/** Writes `before`, the blob's bytes, then `after` at `at` of the output; rejects when the bytes do not match `expected`. */
export async function pipedCopy(blob: PipedBlob, at: number, before: Uint8Array, after: Uint8Array, opts: PipeOptions): Promise<void> {
  const source = openSource(blob);
  let out: number | undefined;
  try {
    out = openSync(opts.output, 'r+');
    writeAll(out, before, at);
    const hash = opts.thread.open();
    const dataAt = at + before.length;
    let pos = 0;
    let unreported = 0;
    while (pos < blob.expected.size) {
      opts.signal?.throwIfAborted();
      const from = pos;
      const bytes = await hash.fill(blob.expected.size - pos, (into) => readSource(blob, source, into, from));
      if (bytes.length === 0) break;
      writeAll(out, bytes, dataAt + pos);
      pos += bytes.length;
      unreported += bytes.length;
      if (unreported >= REPORT_EVERY) {
        opts.onEvent?.({ type: 'bytes', bytes: unreported });
        unreported = 0;
      }
    }
    // One byte more than the descriptor says is a size mismatch, not a match.
    const read = pos === blob.expected.size && readSource(blob, source, Buffer.alloc(1), pos) > 0 ? pos + 1 : pos;
    const bad = checkHashed(blob.expected, read, await hash.digest(), blob.subject);
    if (bad) throw bad;
    writeAll(out, after, dataAt + pos);
    if (unreported > 0) opts.onEvent?.({ type: 'bytes', bytes: unreported });
  } finally {
    closeSync(source);
    if (out !== undefined) closeSync(out);
  }
}

/** Reads in pieces of at most PIECE bytes (the ring is shared with the hashing thread). */
function readSource(blob: PipedBlob, fd: number, into: Uint8Array, position: number): number {
  return fromBlobSource(blob, () => readSync(fd, into, 0, Math.min(into.byteLength, PIECE), position));
}

function openSource(blob: PipedBlob): number {
  return fromBlobSource(blob, () => openSync(blob.file, 'r'));
}

function writeAll(fd: number, bytes: Uint8Array, at: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
}
