import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { MediaType, parseDigest, type Digest } from '../../../core/index.js';
import { uploadsPath, Header } from '../../api/index.js';
import type { RequestContext } from '../context.js';
import { parseContentRange, uploadedRange } from '../range.js';
import { ServerError, sendEmpty } from '../respond.js';
import { linkCommitted } from '../store-access.js';
import type { UploadSession } from '../upload-sessions.js';

// The steps every upload verb shares: where a session lives, appending a request
// body to it (with the Content-Range check), and committing it under a digest.

export function uploadLocation(name: string, id: string): string {
  return `${uploadsPath(name)}${id}`;
}

/** Location, Range and Docker-Upload-UUID: what 202/204 upload answers carry. */
export function sessionHeaders(name: string, session: UploadSession): Record<string, string> {
  return {
    [Header.location]: uploadLocation(name, session.id),
    [Header.range]: uploadedRange(session.writer.size),
    [Header.uploadUuid]: session.id,
  };
}

function declaredLength(req: IncomingMessage): number | undefined {
  const text = req.headers['content-length'];
  return text === undefined || !/^[0-9]{1,15}$/.test(text) ? undefined : Number(text);
}

/** Does the request carry a body at all? (PUT may come without its last chunk.) */
function hasBody(req: IncomingMessage): boolean {
  const length = declaredLength(req);
  return length === undefined ? req.headers['transfer-encoding'] !== undefined : length > 0;
}

/**
 * Streams the request body onto the session's ingest, hashing as it goes. A
 * Content-Range must start where the upload stands (else 416 RANGE_INVALID, the
 * client asks GET for the offset) and agree with Content-Length.
 */
export async function appendBody(ctx: RequestContext, name: string, session: UploadSession): Promise<void> {
  const { req } = ctx;
  const rangeHeader = req.headers['content-range'];
  if (rangeHeader !== undefined) {
    const { start, end } = parseContentRange(rangeHeader);
    if (start !== session.writer.size || end < start) {
      throw new ServerError('RANGE_INVALID', `chunk ${start}-${end} does not continue the upload at byte ${session.writer.size}`, {
        headers: sessionHeaders(name, session),
      });
    }
    const length = declaredLength(req);
    if (length !== undefined && length !== end - start + 1) {
      throw new ServerError('SIZE_INVALID', `Content-Length ${length} does not match Content-Range ${start}-${end}`);
    }
  }
  if (!hasBody(req)) return;
  await pipeline(req, session.writer.stream());
}

/** The `digest` query parameter of a closing PUT or a monolithic POST. */
export function queryDigest(query: URLSearchParams): Digest {
  const text = query.get('digest') ?? '';
  try {
    return parseDigest(text);
  } catch {
    throw new ServerError('DIGEST_INVALID', `digest parameter '${text.slice(0, 100)}' is missing or not sha256:<64 hex>`);
  }
}

/**
 * Commits the session as `digest` (the store checks the bytes; a mismatch commits
 * nothing and drops the partial), links the blob into `name` and answers 201.
 */
export async function commitSession(ctx: RequestContext, name: string, session: UploadSession, digest: Digest): Promise<void> {
  const { sessions, pins, store } = ctx.deps;
  // Pinned before it exists, so no GC can take it between the commit and the manifest that names it.
  pins.pin(digest);
  let size: number;
  try {
    size = (await session.writer.commit({ digest }, { subject: `upload to ${name}` })).size;
  } catch (err) {
    await session.writer.abort().catch(() => undefined); // a no-op when the store already dropped the partial
    throw err;
  } finally {
    sessions.forget(session); // committed or dropped: either way the session is over
  }
  await linkCommitted(store.repository(name), { mediaType: MediaType.octetStream, digest, size });
  sendEmpty(ctx.res, 201, { [Header.location]: `/v2/${name}/blobs/${digest}`, [Header.contentDigest]: digest });
}
