import { pause, waitToRetry, type RetrySettings } from './back-off.js';
import { backoffDelay } from './policy.js';
import { giveUp } from './transient.js';

// Network failures of one origin, shared by every request to it. Many requests
// are in flight at once, and a registry that is down must cost ONE budget, not
// one per request: the first failure starts a backoff that later failures join;
// after `retries` of them the origin is down for the rest of this client's life
// and every request to it fails at once, without a connection attempt. Any HTTP
// answer (from an attempt started after the last failure) ends the outage.

export class Outage {
  private failures = 0;
  /** Bumped at each counted failure: an answer or failure from an older attempt is stale. */
  private generation = 0;
  /** When the current shared wait ends (ms since epoch); 0 when none. */
  private resumeAt = 0;
  private down: unknown;
  private readonly settings: RetrySettings;

  constructor(settings: RetrySettings) {
    this.settings = settings;
  }

  /** Before an attempt: throws when the origin is down; else the token to hand to answered() or failed(). */
  begin(): number {
    if (this.down !== undefined) throw this.down;
    return this.generation;
  }

  answered(since: number): void {
    if (since === this.generation) this.failures = 0;
  }

  /** After a network failure: waits until the origin may be tried again, or throws `err` given up. */
  async failed(err: unknown, since: number, what: string, signal?: AbortSignal): Promise<void> {
    if (this.down !== undefined) throw this.down;
    const now = Date.now();
    // Another request is already waiting out this outage: wait with it (not a retry of its own, so no report).
    if (this.resumeAt > now) return pause(this.settings, err, this.resumeAt - now, signal);
    // This attempt began before the last wait: its failure is old news, try again now.
    if (since < this.generation) return;
    if (this.failures >= this.settings.policy.retries) {
      this.down = giveUp(err);
      throw err;
    }
    this.failures += 1;
    this.generation += 1;
    const delayMs = backoffDelay(this.settings.policy, this.failures);
    this.resumeAt = now + delayMs;
    return waitToRetry(this.settings, err, this.failures, what, delayMs, signal);
  }
}
