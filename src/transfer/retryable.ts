import { ExitCode, isFerryError } from '../core/errors.js';

// Which failures a whole-blob transfer retries. The client already retried the
// single request; this level retries the transfer, which resumes with Range from
// what the target holds, so a dropped connection costs only the missing bytes.
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export function isRetryable(err: unknown): boolean {
  if (isFerryError(err)) return err.exitCode === ExitCode.network;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/** Exponential backoff with full jitter: ~250 ms, 500 ms, 1 s … capped at 8 s. */
export function backoffDelay(attempt: number): number {
  const ceiling = Math.min(8000, 250 * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
