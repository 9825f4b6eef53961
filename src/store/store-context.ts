import type { StoreLayout } from './layout.js';
import type { RefLocks } from './ref-locks.js';
import type { StoreIndex } from './store-index.js';

import type { Clock } from '../core/clock.js';
import type { Digest } from '../core/digest.js';

export type { Clock } from '../core/clock.js';

/** What the store's parts share: passed in, never a module-level singleton. */
export interface StoreContext {
  readonly layout: StoreLayout;
  readonly index: StoreIndex;
  readonly clock: Clock;
  readonly locks: RefLocks;
  readonly readOnly: boolean;
  /** A HEAD/exists refreshes a blob's touched_at at most this often (it is a write). */
  readonly touchIntervalMs: number;
  /** Ingest writers open in this process; closed (partials kept) when the store closes. */
  readonly openWriters: Set<{ close(): Promise<void> }>;
  /** Hear each blob this handle commits with bytes it hashed itself (Store.watchCommits). */
  readonly commitWatchers: Set<(digest: Digest) => void>;
}
