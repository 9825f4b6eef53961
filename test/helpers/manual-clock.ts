import type { Clock } from '../../src/core/clock.js';

// A clock a test moves by hand (src/core/clock.ts): expiry is reached by
// advancing it, never by sleeping.

export interface ManualClock {
  readonly now: Clock;
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
