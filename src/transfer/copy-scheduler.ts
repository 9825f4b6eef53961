import pLimit, { type LimitFunction } from 'p-limit';
import { DEFAULT_CONCURRENCY, SMALL_BLOB_BYTES } from '../core/limits.js';
import { PriorityQueue } from '../core/priority-queue.js';
import type { NodeAction } from './events.js';

// What several copyGraph calls share so that, together, they stay within one
// request bound and never move one node twice: the limiter and the nodes under
// way. One object with one contract instead of a raw Map and a limiter passed
// side by side (oras-go keeps the same pair inside its copy's status tracker).

export interface SchedulerOptions {
  /**
   * Request slots beyond the limit's that only round trips may take: metadata (manifests, referrer and tag
   * lookups) and blobs up to SMALL_BLOB_BYTES. Large downloads keep to the limit's own slots, so at most
   * `concurrency + smallSlots` requests are in flight, and a config or attestation blob of a few hundred
   * bytes never waits for a 40 MB layer to end. 0 (the default): every request shares the limit's slots.
   */
  smallSlots?: number;
}

export class CopyScheduler {
  /** Bounds every request in flight across the copies sharing this scheduler (and any other work given it). */
  readonly limit: LimitFunction;
  /** With small slots: bounds the large downloads alone, to the concurrency given (each also holds a slot of `limit`). */
  private readonly large: LimitFunction | undefined;
  /** Nodes under way or done, by `repository\0digest`, and the first of each digest by bare digest. */
  private readonly nodes = new Map<string, Promise<NodeAction>>();
  /** Blob downloads waiting for a slot, largest first. */
  private readonly blobs = new PriorityQueue<{ size: number; start: () => Promise<void> }>((b) => b.size);

  constructor(limit: LimitFunction = pLimit(DEFAULT_CONCURRENCY), options: SchedulerOptions = {}) {
    const small = options.smallSlots ?? 0;
    if (small > 0) {
      this.large = limit;
      this.limit = pLimit(limit.concurrency + small);
    } else this.limit = limit;
  }

  /**
   * Runs a blob's download within the limit. A slot that comes free goes to the largest blob
   * waiting, not the first queued: the longest download starts first instead of ending the pull
   * alone (an export's graphs are planned one after another, and a deep one's large layer,
   * a Windows base behind a manifest list, was queued behind every other image's layers).
   * With small slots, a small blob takes any free slot at once, beside the large downloads.
   */
  blobSlot<T>(size: number, download: () => Promise<T>): Promise<T> {
    if (this.large && size <= SMALL_BLOB_BYTES) return this.limit(download);
    return new Promise<T>((resolve, reject) => {
      this.blobs.push({ size, start: () => download().then(resolve, reject) });
      // One turn in the limiter per blob; whichever turn comes takes the largest blob waiting then.
      const turn = (): Promise<void> => this.blobs.pop()!.start();
      void (this.large ? this.large(() => this.limit(turn)) : this.limit(turn));
    });
  }

  /**
   * Runs `work` once per (repository, digest): later calls for the same pair get
   * its promise. `work` is told of the same digest under way into another
   * repository (wait for it, then mount from there). A node that fails is
   * forgotten, so a later copy tries it again.
   */
  once(repository: string, digest: string, work: (elsewhere: Promise<NodeAction> | undefined) => Promise<NodeAction>): Promise<NodeAction> {
    // Keyed by repository too: a blob must be linked into each repository it goes to.
    const key = `${repository}\0${digest}`;
    const known = this.nodes.get(key);
    if (known) return known;
    const elsewhere = this.nodes.get(digest);
    const run = work(elsewhere);
    this.nodes.set(key, run);
    if (!elsewhere) this.nodes.set(digest, run);
    run.catch(() => {
      this.nodes.delete(key);
      if (this.nodes.get(digest) === run) this.nodes.delete(digest);
    });
    return run;
  }
}
