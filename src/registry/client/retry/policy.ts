// How long and how often ferry retries (ggcr remote/options.go: one Backoff for
// every call). One policy for every level that retries: a request, a chunk, a
// whole blob. `--retries` sets the budget; the rest are defaults.

export interface RetryPolicy {
  /** Retries after the first try (`--retries`). */
  readonly retries: number;
  /** The first wait, ms; each later one is three times longer. */
  readonly baseDelayMs: number;
  /** The longest wait, from the backoff or a Retry-After, ms. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 30_000 };

/** Wait before retry number `attempt` (1-based): base·3^(attempt-1) ±20 % jitter, or the server's Retry-After; capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const exp = policy.baseDelayMs * 3 ** (attempt - 1);
  const jitter = 1 + (Math.random() * 0.4 - 0.2);
  return Math.min(Math.round(exp * jitter), policy.maxDelayMs);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
