import { Readable } from 'node:stream';
import { AuthError, ErrorCode, type Descriptor, type EventSink } from '../../core/index.js';
import type { RepoContext } from './repo-context.js';
import { backOff } from './retry/index.js';
import { redactUrl } from './transport/redact.js';
import { patchChunk, uploadStatus } from './upload-steps.js';

// Chunked upload: PATCH `chunkSize` pieces with Content-Range, holding at most one
// chunk in memory. After a failed PATCH, ask the registry how much it kept
// (GET status → Range) and send the rest of the chunk from there — within the
// client's retry budget of tries without progress. Registries that cannot resume
// (distribution cancels a session whose size moved unexpectedly) fail here and
// the owner retries the whole blob.

function sliceParts(parts: readonly Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  let left = skip;
  for (const p of parts) {
    if (left >= p.length) {
      left -= p.length;
      continue;
    }
    out.push(left > 0 ? p.subarray(left) : p);
    left = 0;
  }
  return out;
}

async function sendChunk(ctx: RepoContext, location: URL, start: number, parts: Buffer[], length: number, signal?: AbortSignal): Promise<URL> {
  let sent = 0;
  let stalls = 0;
  let at = location;
  for (;;) {
    try {
      const from = sent;
      return await patchChunk(ctx, at, start + from, () => Readable.from(sliceParts(parts, from)), length - from, signal);
    } catch (e) {
      // A token that expired during a long PATCH: the authenticator has dropped it; one more try fetches a new one.
      const expired = e instanceof AuthError && e.code === ErrorCode.unauthorized;
      await backOff(ctx.http.retry, e, ++stalls, `PATCH ${redactUrl(at)}`, signal, expired);
      const status = await uploadStatus(ctx, at, signal);
      if (status.offset < start + sent || status.offset > start + length) throw e;
      if (status.offset > start + sent) stalls = 0;
      sent = status.offset - start;
      at = status.location;
      if (sent === length) return at;
    }
  }
}

/**
 * Streams `source` (already verifying) to the session at `location` in chunks.
 * Returns the Location to commit at. The commit is the caller's, after the
 * source ended cleanly — so a tampered source never gets committed.
 */
export async function sendChunks(
  ctx: RepoContext,
  location: URL,
  source: AsyncIterable<Buffer>,
  /** Each chunk the registry took, as `bytes` of `descriptor`. */
  progress?: { descriptor: Descriptor; onEvent: EventSink },
  signal?: AbortSignal,
): Promise<URL> {
  let at = location;
  let offset = 0;
  let parts: Buffer[] = [];
  let filled = 0;
  const flush = async (): Promise<void> => {
    at = await sendChunk(ctx, at, offset, parts, filled, signal);
    offset += filled;
    progress?.onEvent({ type: 'bytes', descriptor: progress.descriptor, bytes: filled });
    parts = [];
    filled = 0;
  };
  for await (const buf of source) {
    let rest = buf;
    while (rest.length > 0) {
      const take = Math.min(rest.length, ctx.chunkSize - filled);
      parts.push(rest.subarray(0, take));
      filled += take;
      rest = rest.subarray(take);
      if (filled === ctx.chunkSize) await flush();
    }
  }
  if (filled > 0) await flush();
  return at;
}
