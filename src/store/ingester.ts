import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, UsageError, isDigest } from '../core/index.js';
import { isErrno, removeQuietly } from './durable-fs.js';
import { IngestWriter, type IngestExpectation } from './ingest-writer.js';
import type { IngestPaths } from './layout.js';
import { isProcessAlive } from '../core/process-alive.js';
import { lockedError } from './ref-locks.js';
import type { StoreContext } from './store-context.js';
import { byCodeUnits } from '../core/code-unit-order.js';

export interface OpenIngestOptions {
  /** What the bytes should turn out to be; a partial written for another digest is discarded. */
  expected?: IngestExpectation;
  /** Wait up to this long for another writer of the same ref (0: fail at once with ERR_STORE_LOCKED). */
  waitMs?: number;
}

/** An ingest as seen from outside: how far it got and whether someone is writing it. */
export interface IngestStatus {
  ref: string;
  /** Bytes in the partial: where a resumed write continues. */
  offset: number;
  expected: IngestExpectation | undefined;
  startedAt: number;
  /** Last activity: the partial's last write, or the last open or close of a writer. */
  updatedAt: number;
  /** A writer holds it now (in this process or a live other one). */
  active: boolean;
}

/** ingest/<key>.json: enough to resume and to clean up without the index. */
interface Sidecar {
  ref: string;
  expected?: { digest?: string; size?: number; mediaType?: string };
  startedAt: number;
}

async function readSidecar(path: string): Promise<Sidecar | undefined> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as Sidecar;
    return typeof doc.ref === 'string' && typeof doc.startedAt === 'number' ? doc : undefined;
  } catch {
    return undefined; // missing or torn by a crash: start the ingest afresh
  }
}

async function writeSidecar(path: string, sidecar: Sidecar): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(sidecar));
  await rename(tmp, path);
}

function expectationOf(sidecar: Sidecar): IngestExpectation | undefined {
  const e = sidecar.expected;
  if (!e) return undefined;
  const out: IngestExpectation = {};
  if (isDigest(e.digest)) out.digest = e.digest;
  if (typeof e.size === 'number') out.size = e.size;
  if (typeof e.mediaType === 'string') out.mediaType = e.mediaType;
  return out;
}

/** Re-hashes the bytes already in a partial (Node cannot serialise hash state) and returns how many there were. */
async function rehash(path: string, hash: Hash): Promise<number> {
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  return bytes;
}

function validateRef(ref: string): void {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 1024) {
    throw new UsageError(`invalid ingest ref '${String(ref).slice(0, 100)}': 1 to 1024 characters`, { code: ErrorCode.usage });
  }
}

/**
 * Opens, inspects and aborts ingests (containerd IngestManager + Ingester). A ref
 * is any key: the expected digest, or an upload-session id whose digest is only
 * learnt at the final PUT. One writer per ref, across processes too.
 */
export class Ingester {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /** Opens (or resumes) the ingest `ref`: the returned writer's `offset` says how many bytes are already there. */
  async open(ref: string, options: OpenIngestOptions = {}): Promise<IngestWriter> {
    validateRef(ref);
    if (this.ctx.readOnly) throw new UsageError('the store was opened read-only', { code: ErrorCode.usage });
    const waitMs = options.waitMs ?? 0;
    const deadline = Date.now() + waitMs;
    const release = await this.ctx.locks.acquire(ref, waitMs);
    try {
      const expected = options.expected;
      await this.claim(ref, expected, deadline);
      const paths = this.ctx.layout.ingestPaths(ref);
      let sidecar = await readSidecar(paths.sidecar);
      const previous = sidecar ? expectationOf(sidecar) : undefined;
      const stale =
        !sidecar ||
        sidecar.ref !== ref ||
        (expected?.digest !== undefined && previous?.digest !== undefined && expected.digest !== previous.digest) ||
        (expected?.size !== undefined && previous?.size !== undefined && expected.size !== previous.size);
      const merged: IngestExpectation | undefined = stale ? expected : { ...previous, ...expected };
      if (stale || expected) {
        sidecar = { ref, startedAt: stale || !sidecar ? this.ctx.clock() : sidecar.startedAt };
        if (merged) sidecar.expected = { ...merged };
        await writeSidecar(paths.sidecar, sidecar);
      }
      let hash = createHash('sha256');
      let offset = stale ? 0 : await rehash(paths.partial, hash);
      if (merged?.size !== undefined && offset > merged.size) {
        hash = createHash('sha256');
        offset = 0;
      }
      // A commit killed between its chmod 0444 and its rename leaves a read-only partial.
      await chmod(paths.partial, 0o644).catch(() => undefined);
      const fh = await open(paths.partial, offset === 0 ? 'w' : 'a', 0o644);
      const startedAt = sidecar?.startedAt ?? this.ctx.clock();
      return new IngestWriter({ ctx: this.ctx, ref, paths, fh, hash, offset, expected: merged, startedAt, release });
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Takes the index row for `ref`, the cross-process half of the lock; polls while a live process holds it. */
  private async claim(ref: string, expected: IngestExpectation | undefined, deadline: number): Promise<void> {
    for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
      const holder = this.ctx.index.immediate(() => {
        const row = this.ctx.index.ingests.get(ref);
        if (row && row.pid !== 0 && row.pid !== process.pid && isProcessAlive(row.pid)) return row.pid;
        this.ctx.index.ingests.claim(ref, expected, process.pid, this.ctx.clock());
        return undefined;
      });
      if (holder === undefined) return;
      if (Date.now() + delay > deadline) throw lockedError(ref, `process ${holder}`);
      await sleep(delay);
    }
  }

  private async statusAt(ref: string, paths: IngestPaths, sidecar: Sidecar): Promise<IngestStatus> {
    const info = await stat(paths.partial).catch(() => undefined);
    const row = this.ctx.index.ingests.get(ref);
    // A row naming this process while our lock is free: a writer of another Store instance here (tests, serve + export).
    const otherLive = row !== undefined && row.pid !== 0 && isProcessAlive(row.pid);
    return {
      ref,
      offset: info?.size ?? 0,
      expected: expectationOf(sidecar),
      startedAt: sidecar.startedAt,
      // The latest sign of life: the last write (mtime) or the last open/close recorded in the index.
      updatedAt: Math.max(info?.mtimeMs ?? 0, row?.updatedAt ?? 0, sidecar.startedAt),
      active: this.ctx.locks.isHeld(ref) || otherLive,
    };
  }

  /** The state of ingest `ref`, or undefined when there is none. */
  async status(ref: string): Promise<IngestStatus | undefined> {
    const paths = this.ctx.layout.ingestPaths(ref);
    const sidecar = await readSidecar(paths.sidecar);
    if (!sidecar || sidecar.ref !== ref) return undefined;
    return this.statusAt(ref, paths, sidecar);
  }

  /** Every ingest with a sidecar, sorted by ref. */
  async list(): Promise<IngestStatus[]> {
    const names = await readdir(this.ctx.layout.ingestDir).catch(() => [] as string[]);
    const out: IngestStatus[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const sidecar = await readSidecar(`${this.ctx.layout.ingestDir}/${name}`);
      if (sidecar) out.push(await this.statusAt(sidecar.ref, this.ctx.layout.ingestPaths(sidecar.ref), sidecar));
    }
    return out.sort(byCodeUnits((o) => o.ref));
  }

  /** Deletes ingest `ref` (partial, sidecar, index row); refuses while a writer holds it. */
  async abort(ref: string): Promise<boolean> {
    validateRef(ref);
    const release = await this.ctx.locks.acquire(ref, 0);
    try {
      const row = this.ctx.index.ingests.get(ref);
      if (row && row.pid !== 0 && row.pid !== process.pid && isProcessAlive(row.pid)) throw lockedError(ref, `process ${row.pid}`);
      const paths = this.ctx.layout.ingestPaths(ref);
      const had = (await stat(paths.sidecar).catch(() => undefined)) !== undefined || row !== undefined;
      await removeQuietly(paths.partial, paths.sidecar);
      this.ctx.index.ingests.delete(ref);
      return had;
    } finally {
      release();
    }
  }

  /** Bytes already held for `ref`: what a caller with a resumable source should start fetching from. */
  async offset(ref: string): Promise<number> {
    return (await this.status(ref))?.offset ?? 0;
  }
}

