// ferry's one retry policy (issue 15 item 1): what is transient, how long to
// wait, how many times (`--retries`), and the one hook that reports a retry.
// Every level that retries — a request (transport/http-client.ts), a chunk
// (chunked-upload.ts, streamed-upload.ts), a whole blob (transfer/copy-graph.ts)
// — goes through here, and an error one level gave up on is final for the rest.
export { DEFAULT_RETRY_POLICY, backoffDelay, parseRetryAfter, type RetryPolicy } from './policy.js';
export { failureReason, giveUp, isTransient, isTransientStatus, networkErrorCode } from './transient.js';
export { DEFAULT_RETRY_SETTINGS, backOff, pause, waitToRetry, type RetrySettings } from './back-off.js';
export { Outage } from './outage.js';
export { sleep } from './sleep.js';
export type { RetryEvent, RetryHook } from './events.js';
