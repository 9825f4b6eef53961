import type { Digest } from '../../core/index.js';
import type { ContentPins } from '../../store/index.js';

// Blobs pushed through the registry are pinned in the store for a while, so an
// online GC cannot sweep the layers of a push whose manifest has not arrived yet,
// however small its grace window (design §3, anti-pattern 17). Pins go into
// time windows with deterministic owner names, `ferry-serve:<window>`: dropping
// a whole window is one call, and a server that crashed leaves nothing another
// server (or its own restart) cannot find and drop.

const OWNER_PREFIX = 'ferry-serve:';
/** Windows looked back on at start-up to drop pins a crashed server left behind. */
const STARTUP_SWEEP_WINDOWS = 48;

export class UploadPins {
  private readonly store: Pick<ContentPins, 'pin' | 'unpin'>;
  private readonly windowMs: number;
  private readonly clock: () => number;
  private lastDropped: number | undefined;

  constructor(store: Pick<ContentPins, 'pin' | 'unpin'>, windowMs: number, clock: () => number = Date.now) {
    this.store = store;
    this.windowMs = Math.max(1000, windowMs);
    this.clock = clock;
  }

  private window(now: number = this.clock()): number {
    return Math.floor(now / this.windowMs);
  }

  /** Keeps `digests` (and all under them) for at least one and at most two windows. */
  pin(...digests: Digest[]): void {
    if (digests.length > 0) this.store.pin(`${OWNER_PREFIX}${this.window()}`, digests);
  }

  /** Drops windows that ended more than one window ago (the janitor calls this). */
  dropExpired(lookBack = 1): void {
    const current = this.window();
    const from = current - 2;
    const to = this.lastDropped === undefined ? current - 1 - lookBack : Math.min(this.lastDropped, current - 2);
    for (let w = from; w > to; w--) this.store.unpin(`${OWNER_PREFIX}${w}`);
    this.lastDropped = from;
  }

  /** At start-up: also drop what a crashed predecessor left in recent windows. */
  dropStale(): void {
    this.dropExpired(STARTUP_SWEEP_WINDOWS);
  }

  /** At shutdown: nothing more will follow from this server, the store's grace window covers the rest. */
  dropAll(): void {
    const current = this.window();
    for (let w = current; w >= current - 2; w--) this.store.unpin(`${OWNER_PREFIX}${w}`);
  }
}
