import type { RetryEvent, RetryHook } from '../registry/client/index.js';

// --debug: every retry, whatever level made it (a request, a chunk, a whole
// blob), as one line on stderr, from the client's one onRetry hook:
//   ferry: debug: retrying GET http://…/v2/…/blobs/sha256:ab12… (HTTP 503), 2/4 in 0.8 s

export function formatRetry(event: RetryEvent): string {
  return `ferry: debug: retrying ${event.what} (${event.reason}), ${event.attempt}/${event.max} in ${(event.delayMs / 1000).toFixed(1)} s`;
}

export function retryLogger(stderr: NodeJS.WritableStream = process.stderr): RetryHook {
  return (event) => void stderr.write(`${formatRetry(event)}\n`);
}
