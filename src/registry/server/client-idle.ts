import type { IncomingMessage, ServerResponse } from 'node:http';

// distribution's http.ReadTimeout, measured per idle gap instead of per request:
// a client that sends nothing of a body it announced (Content-Length: 200, then
// 100 bytes and silence), or reads nothing of a large answer, for `ms` is cut, so
// it cannot hold a connection, an upload session and a file descriptor for ever.
// An upload that keeps moving is never cut, however long it takes. No clock runs
// while the server itself works (between the end of the body and the answer: a
// commit's fsync may take long). Node's http server destroys a socket whose
// timeout no request, response or server listener claims: that is the cut.

function bodyDue(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Starts the clock for a request whose body is still to come; stops it once the body is in. */
export function watchRequestBody(req: IncomingMessage, res: ServerResponse, ms: number): void {
  if (!bodyDue(req)) return;
  const { socket } = req;
  socket.setTimeout(ms);
  // Answered already (and the rest of the body is being drained): Node's keep-alive clock has taken over.
  req.once('end', () => {
    if (!res.headersSent) socket.setTimeout(0);
  });
}

/**
 * Starts the clock for an answer the client must read (a blob, a manifest); Node's keep-alive clock follows it.
 * The request's socket, not res.socket: an answer queued behind the previous one on a keep-alive connection
 * has no socket yet, and its clock must run all the same.
 */
export function watchAnswer(res: ServerResponse, ms: number): void {
  res.req.socket.setTimeout(ms);
}
