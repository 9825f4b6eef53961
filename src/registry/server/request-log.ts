import type { IncomingMessage, ServerResponse } from 'node:http';

// One entry per request for the `onRequest` callback (the CLI prints it as an
// access log). Paths only: the query is dropped (it can carry upload state) and
// credentials never appear (they travel in headers, which are not logged).

export interface RequestLogEntry {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** 0 when the connection closed before an answer was sent. */
  readonly status: number;
  /** Bytes sent on the connection for this answer, headers included. */
  readonly bytes: number;
  /** Bytes read from the connection while the request was handled: about the size of its body. */
  readonly received: number;
  readonly ms: number;
  /** The authenticated user; undefined for anonymous requests or an open server. */
  readonly user: string | undefined;
  /** Set when the request ended in an error the server did not expect (a 500). */
  readonly error?: string;
}

export interface RequestLogState {
  user: string | undefined;
  error: string | undefined;
}

/** Calls `onRequest` once, when the answer is finished or the connection closed. */
export function watchRequest(
  req: IncomingMessage,
  res: ServerResponse,
  onRequest: ((entry: RequestLogEntry) => void) | undefined,
): RequestLogState {
  const state: RequestLogState = { user: undefined, error: undefined };
  if (!onRequest) return state;
  const started = process.hrtime.bigint();
  const socket = req.socket;
  const writtenBefore = socket.bytesWritten;
  const readBefore = socket.bytesRead;
  let done = false;
  const report = (): void => {
    if (done) return;
    done = true;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: RequestLogEntry = {
      method: req.method ?? '',
      path,
      status: res.headersSent ? res.statusCode : 0,
      bytes: Math.max(0, socket.bytesWritten - writtenBefore),
      received: Math.max(0, socket.bytesRead - readBefore),
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      user: state.user,
      ...(state.error !== undefined ? { error: state.error } : {}),
    };
    try {
      onRequest(entry);
    } catch {
      // A failing logger must not take the server down.
    }
  };
  res.once('finish', report);
  res.once('close', report);
  return state;
}
