import type { RetryEvent, RetryHook } from '../registry/client/index.js';
import type { FerryEvent } from '../core/progress-events.js';
import { channel } from './progress-channel.js';

// Every retry, whatever level made it (a request, a chunk, a whole blob), goes
// from the client's one onRetry hook into the progress channel; presenters show
// it as one line:   retrying blob sha256:ab12… (HTTP 503), 2/4 in 0.8 s

export function formatRetry(event: RetryEvent | Extract<FerryEvent, { type: 'retry' }>): string {
  return `retrying ${event.what} (${event.reason}), ${event.attempt}/${event.max} in ${(event.delayMs / 1000).toFixed(1)} s`;
}

/** The client hook that puts retries into the channel. */
export const retryIntoChannel: RetryHook = (event) =>
  channel.emit({ type: 'retry', what: event.what, reason: event.reason, attempt: event.attempt, max: event.max, delayMs: event.delayMs });
