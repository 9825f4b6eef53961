import { Worker } from 'node:worker_threads';

// sha256 on another thread, for a tar written in order (volumes, fetch-only
// sources, FAT): the writer hashes every byte twice, each blob against its
// digest and the whole tar for the volume list (a single file copied on the
// pool needs no whole-tar hash, see writer.ts). In
// the profile of an export the two passes took ~150 ms each per 300 MiB, on the
// main thread, in series with the copy. The whole-tar hash gives no verdict
// mid-stream, so it runs here, beside the writer, on the second core (writer
// alone: 0.80-0.88 s → 0.61-0.66 s per 300 MiB). Moving the per-blob check here
// too made it slower (0.71-0.89 s): one thread then hashes twice as much and
// the two streams wait on each other for ring space. Bytes reach the worker
// through one fixed shared ring (RING bytes, reused): per-chunk copies would
// pile up as garbage in its heap. Messages are FIFO, so each hash sees its bytes
// in order, and a region of the ring is reused only after it was hashed.
// fill() reads straight into the ring instead (piped-copy.ts): the caller
// writes the bytes out from there while this thread hashes them.

const RING = 2 * 1024 * 1024;

// A real module (plain JavaScript, so it loads from src/ under the test runner
// and from dist/ alike), as core/range-worker.js; the CLI's bundle starts its
// CommonJS entry of it instead (scripts/bundle-cli.mjs rewrites this URL).
const WORKER_URL = new URL('./ring-hash-worker.js', import.meta.url);

type Reply = [freed: number] | [freed: 0, id: number, digest: string];

/** One worker thread and its ring; hand out independent hashes with open(). */
export class HashThread {
  private readonly size: number;
  private readonly ring: Uint8Array;
  private readonly worker: Worker;
  private head = 0;
  private used = 0;
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;
  /** Bytes handed to the thread so far, over all hashes. */
  queued = 0;
  private waiters: Array<() => void> = [];
  private readonly pending = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();

  /** `ringBytes`: room for bytes not yet hashed (fill() takes pieces of up to a quarter of it). */
  constructor(ringBytes = RING) {
    this.size = ringBytes;
    const shared = new SharedArrayBuffer(ringBytes);
    this.ring = new Uint8Array(shared);
    this.worker = new Worker(WORKER_URL, { workerData: shared });
    this.worker.on('message', (reply: Reply) => {
      this.used -= reply[0];
      if (reply.length === 3) {
        this.pending.get(reply[1])?.resolve(reply[2]);
        this.pending.delete(reply[1]);
      }
      this.wake();
    });
    this.worker.on('error', (err: Error) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the hashing thread exited (${code})`));
    });
  }

  /** A new, empty sha256 on this thread. */
  open(): ThreadHash {
    return new ThreadHash(this, this.nextId++);
  }

  /** Copies `chunk` into the ring once for hash `id` (or each of several); waits while the ring is full. */
  async update(id: number | readonly number[], chunk: Uint8Array): Promise<void> {
    for (let from = 0; from < chunk.byteLength; ) {
      const piece = await this.room(chunk.byteLength - from);
      this.ring.set(chunk.subarray(from, from + piece), this.head);
      this.queue(id, piece);
      from += piece;
    }
  }

  /**
   * Lets `read` put up to `length` bytes straight into the ring (it returns how
   * many it read) and queues them for hash `id`: the bytes, a view that stays
   * valid until the next call, for the caller to write out meanwhile.
   */
  async fill(id: number, length: number, read: (into: Uint8Array) => number): Promise<Uint8Array> {
    if (this.failure) throw this.failure;
    const view = this.ring.subarray(this.head, this.head + (await this.room(Math.min(length, this.size / 4))));
    const n = read(view);
    if (n > 0) this.queue(id, n);
    return view.subarray(0, n);
  }

  /** Waits until the ring has free room at its head; how much (at most `wanted`). */
  private async room(wanted: number): Promise<number> {
    for (;;) {
      if (this.failure) throw this.failure;
      // A piece fits both the free space and the stretch up to the ring's end.
      const piece = Math.min(wanted, this.size - this.head, this.size - this.used);
      if (piece > 0) return piece;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private queue(id: number | readonly number[], length: number): void {
    this.worker.postMessage([0, id, this.head, length]);
    this.queued += length;
    this.used += length;
    this.head = (this.head + length) % this.size;
  }

  /** The hex digest of hash `id`, once the worker has hashed everything sent for it. */
  digest(id: number): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<string>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage([1, id]);
    });
  }

  /** Ends the thread; hashes not yet digested are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('the hashing thread was closed'));
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}

/** One sha256 computed on a HashThread. */
export class ThreadHash {
  private readonly thread: HashThread;
  readonly id: number;
  bytes = 0;
  private digested: Promise<string> | undefined;

  constructor(thread: HashThread, id: number) {
    this.thread = thread;
    this.id = id;
  }

  update(chunk: Uint8Array): Promise<void> {
    this.bytes += chunk.byteLength;
    return this.thread.update(this.id, chunk);
  }

  /** HashThread.fill for this hash. */
  async fill(length: number, read: (into: Uint8Array) => number): Promise<Uint8Array> {
    const bytes = await this.thread.fill(this.id, length, read);
    this.bytes += bytes.byteLength;
    return bytes;
  }

  /** The hex digest, once every byte sent is hashed; asked again, the same answer. */
  digest(): Promise<string> {
    this.digested ??= this.thread.digest(this.id);
    return this.digested;
  }

  /** Feeds `chunk` to this hash and to `also` (of the same thread) with one copy into the ring. */
  updateWith(also: ThreadHash | undefined, chunk: Uint8Array): Promise<void> {
    if (!also) return this.update(chunk);
    if (also.thread !== this.thread) throw new Error('updateWith: the two hashes run on different threads');
    this.bytes += chunk.byteLength;
    also.bytes += chunk.byteLength;
    return this.thread.update([this.id, also.id], chunk);
  }
}
