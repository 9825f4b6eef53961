import { ErrorCode, FerryError } from '../../../core/index.js';
import { registryErrorDetails } from '../response-error.js';

// The one answer to "is this failure worth another try?" (ggcr internal/retry
// + transport.Error.Temporary): the network dropped, timed out or was refused
// (a registry restarting), the registry answered 408, 429 or a 5xx that can
// pass (not 501/505). Never: integrity, auth, other 4xx, TLS, our own abort or
// close. An error a retry loop already gave up on is final, so an outer level
// never retries it again: retries never multiply (ggcr retry.Never).

const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

// ENOTFOUND is included: a flapping resolver in a datacentre looks exactly like it.
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT', 'ERR_STREAM_PREMATURE_CLOSE',
]);

const RETRYABLE_FERRY_CODES: ReadonlySet<string> = new Set([ErrorCode.network, ErrorCode.timeout, ErrorCode.tooManyRequests]);

const spent = new WeakSet<object>();

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

/** The error code of a network failure, looking through `cause` (fetch and FerryErrors wrap them). */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_INTERNAL' && !(e instanceof FerryError)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isTransient(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && spent.has(err)) return false;
  if (err instanceof FerryError) {
    if (err.code === ErrorCode.registry) return isTransientStatus(registryErrorDetails(err)?.status ?? 0);
    if (!RETRYABLE_FERRY_CODES.has(err.code)) return false;
    // A NetworkError made from a socket error says which: a closed client is not the network.
    const code = networkErrorCode(err.cause);
    return code === undefined || TRANSIENT_CODES.has(code);
  }
  const code = networkErrorCode(err);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** Marks `err` as retried to the end of a budget: no other level retries it. Returns it. */
export function giveUp<E>(err: E): E {
  if (typeof err === 'object' && err !== null) spent.add(err);
  return err;
}

/** A short reason for a retry report: `HTTP 503`, `ECONNREFUSED`, or the error's code. */
export function failureReason(err: unknown): string {
  const status = registryErrorDetails(err)?.status;
  if (status !== undefined) return `HTTP ${status}`;
  const code = networkErrorCode(err) ?? (err instanceof FerryError ? err.code : undefined);
  return code ?? (err instanceof Error ? err.message.slice(0, 80) : String(err).slice(0, 80));
}
