import { setTimeout as sleep } from 'node:timers/promises';

// Retry policy for idempotent requests (oras retry/policy.go, ggcr retry.go):
// exponential backoff with jitter on network errors, 408, 429 and 5xx, honouring
// Retry-After (seconds or an HTTP date), capped. Retries live at ONE level: the
// client retries single requests whose bodies can be replayed; a whole blob
// upload is retried by its owner (uploads.ts, copyGraph), never stacked on this.

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

// Errors that mean "the network or the server hiccupped", not "you are wrong".
// ENOTFOUND is included: a flapping resolver in a datacentre looks exactly like it.
const RETRY_ERROR_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_REQ_RETRY',
]);

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

/** The error code of a network failure, looking through `cause` (fetch wraps them). */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_INTERNAL') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isRetryableError(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && RETRY_ERROR_CODES.has(code);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Delay before retry number `attempt` (1-based): base·3^(attempt-1), ±20% jitter, capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const exp = policy.baseDelayMs * 3 ** (attempt - 1);
  const jitter = 1 + (Math.random() * 0.4 - 0.2);
  return Math.min(Math.round(exp * jitter), policy.maxDelayMs);
}

export async function waitBeforeRetry(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, signal ? { signal } : undefined);
}
