import { existsSync, renameSync, rmSync } from 'node:fs';
import { fsyncDirSync } from './durable-fs.js';
import type { CommitPlan } from './commit.js';
import type { StoreContext } from './store-context.js';

/*
 * Group commit (what storage engines do with their log): blobs that finish close
 * together share one fsync of blobs/sha256 and one index transaction. A committer
 * first announces itself (its file's fdatasync is about to go to disk), then
 * queues its plan. The leader, a task started by the first plan of a group,
 * waits for the committers announced when it started (they will queue in a
 * moment), then in one BEGIN IMMEDIATE: every check and rename, ONE directory
 * fsync, then every index row, each in its own savepoint; then every waiter
 * resolves. No index row is written before its blob's bytes (fdatasync by the
 * committer) and its rename (the directory fsync) are durable. The renames stay
 * under the write lock, which is what keeps a concurrent GC sweep safe.
 */

/** The largest file whose fdatasync a group waits for. */
const WAIT_MAX_BYTES = 16 * 1024 * 1024;

/** A committer whose bytes are on their way to disk; the leader waits for it to queue. */
export interface Announcement {
  /** Leaves the group without committing (a failed check, a write error). Idempotent. */
  cancel(): void;
}

interface Waiter {
  plan: CommitPlan;
  resolve: (r: { existed: boolean }) => void;
  reject: (err: unknown) => void;
  /** Found already committed: its partial was dropped, its row only touched. */
  existed?: boolean;
}

interface Ticket extends Announcement {
  settled: Promise<void>;
  settle(): void;
}

export class CommitGroup {
  private readonly ctx: StoreContext;
  private queue: Waiter[] = [];
  private readonly announced = new Set<Ticket>();
  private leading = false;
  /** The group being gathered; a store that closes meanwhile waits for it (ctx.openWriters). */
  private current: Promise<void> = Promise.resolve();
  private readonly drain = { close: (): Promise<void> => this.current };

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /**
   * Call before the fdatasync of a file of `bytes`; pass the result to `commit`, or
   * cancel it. A big file is not waited for: its sync may take seconds on a slow
   * disk, and the small blobs beside it would hold their transfer slots meanwhile.
   */
  announce(bytes = 0): Announcement {
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const ticket: Ticket = {
      settled,
      settle: () => {
        if (this.announced.delete(ticket)) settle();
      },
      cancel: () => ticket.settle(),
    };
    if (bytes <= WAIT_MAX_BYTES) this.announced.add(ticket);
    return ticket;
  }

  /** Queues `plan` (its file fsynced, closed, 0444) and resolves once its group has committed. */
  commit(plan: CommitPlan, announcement?: Announcement): Promise<{ existed: boolean }> {
    const done = new Promise<{ existed: boolean }>((resolve, reject) => this.queue.push({ plan, resolve, reject }));
    (announcement as Ticket | undefined)?.settle();
    if (!this.leading) {
      this.leading = true;
      this.ctx.openWriters.add(this.drain);
      this.current = new Promise((resolve) => setImmediate(() => void this.lead().then(resolve, resolve)));
    }
    return done;
  }

  private async lead(): Promise<void> {
    // Only those announced by now: a steady stream of new committers cannot hold a group open.
    const pending = [...this.announced].map((t) => t.settled);
    if (pending.length > 0) await Promise.all(pending);
    this.leading = false;
    const batch = this.queue;
    this.queue = [];
    this.ctx.openWriters.delete(this.drain);
    this.flush(batch);
  }

  private flush(batch: Waiter[]): void {
    const results = new Map<Waiter, { existed: boolean } | { error: unknown }>();
    try {
      this.ctx.index.immediate(() => {
        const moved = this.moveAll(batch, results);
        if (moved.length > 0) {
          fsyncDirSync(this.ctx.layout.blobsDir);
        }
        const now = this.ctx.clock();
        for (const w of batch) {
          if (results.has(w)) continue; // refused by its check or its rename
          results.set(w, this.writeRows(w, now));
        }
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    for (const w of batch) {
      const r = results.get(w);
      if (r && 'error' in r) w.reject(r.error);
      else {
        // Its own bytes, hashed on the way in, are the blob now (not a file found there already).
        if (r?.existed === false) for (const hear of this.ctx.commitWatchers) hear(w.plan.digest);
        w.resolve(r ?? { existed: false });
      }
    }
  }

  /**
   * Runs each check, then moves each partial into blobs/ (or drops it when the blob
   * is there already). A file left by a crash between rename and row is replaced:
   * same digest, same bytes. Records refusals in `results`; returns what moved.
   */
  private moveAll(batch: Waiter[], results: Map<Waiter, { existed: boolean } | { error: unknown }>): Waiter[] {
    const moved: Waiter[] = [];
    const inBatch = new Set<string>();
    for (const w of batch) {
      const { plan } = w;
      try {
        plan.check?.();
        const target = this.ctx.layout.blobPath(plan.digest);
        const existed = inBatch.has(plan.digest) || (this.ctx.index.blobs.get(plan.digest) !== undefined && existsSync(target));
        if (existed) {
          rmSync(plan.partial, { force: true });
          w.existed = true;
        } else {
          renameSync(plan.partial, target);
          inBatch.add(plan.digest);
          moved.push(w);
        }
      } catch (error) {
        results.set(w, { error });
      }
    }
    return moved;
  }

  /** One member's rows in a savepoint: a failing `inTransaction` undoes only its own writes. */
  private writeRows(w: Waiter, now: number): { existed: boolean } | { error: unknown } {
    const { plan } = w;
    try {
      this.ctx.index.db.transaction(() => {
        this.ctx.index.blobs.upsert(plan.digest, plan.size, plan.mediaType, now);
        if (plan.ingestRef !== undefined) this.ctx.index.ingests.delete(plan.ingestRef);
        plan.inTransaction?.();
      })();
      return { existed: w.existed ?? false };
    } catch (error) {
      return { error };
    }
  }
}

const groups = new WeakMap<StoreContext, CommitGroup>();

/** The commit group of a store (one per open store, created on first use). */
export function commitGroupOf(ctx: StoreContext): CommitGroup {
  let group = groups.get(ctx);
  if (!group) {
    group = new CommitGroup(ctx);
    groups.set(ctx, group);
  }
  return group;
}
