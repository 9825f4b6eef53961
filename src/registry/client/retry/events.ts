// The one way a retry is reported: a plain event to a hook the client's owner
// gives (`onRetry` in the client options). ferry's CLI prints it with --debug; a
// progress display can attach to the same hook.

export interface RetryEvent {
  /** This retry's number, from 1. */
  readonly attempt: number;
  /** The budget it counts against (`--retries`). */
  readonly max: number;
  /** What is tried again: `GET <redacted URL>`, `PATCH <redacted URL>` or `blob sha256:…`. */
  readonly what: string;
  /** Why: `HTTP 503`, `ECONNREFUSED`, … */
  readonly reason: string;
  /** Milliseconds until the next try. */
  readonly delayMs: number;
}

export type RetryHook = (event: RetryEvent) => void;
