import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

// --trace FILE: every HTTP exchange the client makes (each redirect hop, each
// retry, each token request) as one JSON record. Records are built from redacted
// values only (redact.ts), so a trace file can be attached to a bug report.

export interface TraceRecord {
  /** ISO time the request was sent. */
  time: string;
  method: string;
  /** Redacted URL: no userinfo, no signed query values. */
  url: string;
  /** HTTP status; absent when the exchange failed before a response. */
  status?: number;
  requestHeaders: Record<string, string | string[]>;
  responseHeaders?: Record<string, string | string[]>;
  /** Milliseconds until the response headers (or the failure). */
  durationMs: number;
  /** Declared request body length, when known. */
  requestBytes?: number;
  /** Declared response body length (Content-Length), when known. */
  responseBytes?: number;
  /** Retry attempt number, 1 for the first try. */
  attempt: number;
  /** Network error code and message when there was no response. */
  error?: string;
}

export interface TraceSink {
  write(record: TraceRecord): void;
  close?(): Promise<void>;
}

/** A sink writing one JSON line per exchange to `path` (appending). Call close() when done. */
export function createFileTraceSink(path: string): TraceSink & { close(): Promise<void> } {
  const out: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  let failed: Error | undefined;
  // A trace is a diagnostic aid: a full disk must not fail the transfer it describes.
  out.on('error', (e) => {
    failed = e;
  });
  return {
    write(record) {
      // A request that outlives the run (cut after the trace was closed) is not worth an error: it has nowhere to go.
      if (!failed && !out.writableEnded) out.write(`${JSON.stringify(record)}\n`);
    },
    async close() {
      if (failed || out.closed) return;
      out.end();
      await once(out, 'close');
    },
  };
}

/** A sink that keeps records in memory (tests, `ferry doctor`). */
export function createMemoryTraceSink(): TraceSink & { readonly records: TraceRecord[] } {
  const records: TraceRecord[] = [];
  return { records, write: (r) => void records.push(r) };
}
