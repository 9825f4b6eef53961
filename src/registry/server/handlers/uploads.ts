import { isDigest, type Digest } from '../../../core/index.js';
import { Header } from '../../api/index.js';
import type { RequestContext } from '../context.js';
import { isRepositoryName } from '../repository-name.js';
import { sendEmpty } from '../respond.js';
import { appendBody, commitSession, queryDigest, sessionHeaders } from './upload-body.js';

// /v2/<name>/blobs/uploads/[<id>] — one function per verb, as in distribution's
// blobupload.go: start (POST, with mount and monolithic variants), status (GET),
// chunk (PATCH), close (PUT), cancel (DELETE).

/**
 * Tries a cross-repository mount; false (fall back to an upload session) when it
 * cannot. The blob is read under `from`, so `from` is checked as a pull of
 * `from` would be: without pull there the client just uploads (distribution
 * does the same), and learns nothing about what `from` holds.
 */
async function tryMount(ctx: RequestContext, name: string, digest: Digest, from: string | null): Promise<boolean> {
  if (from === null || from === name || !isRepositoryName(from)) return false;
  const { gatekeeper, store } = ctx.deps;
  if (!(await gatekeeper.can(ctx.principal, from, 'pull'))) return false;
  ctx.deps.pins.pin(digest); // before the link: a GC in between must not take it
  return store.repository(name).mount({ mediaType: 'application/octet-stream', digest, size: 0 }, from);
}

/** POST /v2/<name>/blobs/uploads/ [?digest=] [?mount=&from=] */
export async function startUpload(ctx: RequestContext, name: string): Promise<void> {
  const query = ctx.url.searchParams;
  const mount = query.get('mount');
  if (mount !== null && isDigest(mount) && (await tryMount(ctx, name, mount, query.get('from')))) {
    sendEmpty(ctx.res, 201, { [Header.location]: `/v2/${name}/blobs/${mount}`, [Header.contentDigest]: mount });
    return;
  }
  const { sessions } = ctx.deps;
  const session = await sessions.create(name);
  if (query.has('digest')) {
    // Monolithic upload: the whole blob in this request's body.
    session.busy = true;
    try {
      const digest = queryDigest(query);
      await appendBody(ctx, name, session);
      await commitSession(ctx, name, session, digest);
    } catch (err) {
      await sessions.cancel(session);
      throw err;
    }
    return;
  }
  sendEmpty(ctx.res, 202, sessionHeaders(name, session));
}

/** GET /v2/<name>/blobs/uploads/<id> — how far the upload got. */
export async function uploadStatus(ctx: RequestContext, name: string, id: string): Promise<void> {
  const session = ctx.deps.sessions.acquire(id, name);
  try {
    sendEmpty(ctx.res, 204, sessionHeaders(name, session));
  } finally {
    ctx.deps.sessions.release(session);
  }
}

/** PATCH /v2/<name>/blobs/uploads/<id> — append a chunk (or stream the whole blob). */
export async function patchUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  const session = ctx.deps.sessions.acquire(id, name);
  try {
    await appendBody(ctx, name, session);
    sendEmpty(ctx.res, 202, sessionHeaders(name, session));
  } finally {
    ctx.deps.sessions.release(session);
  }
}

/** PUT /v2/<name>/blobs/uploads/<id>?digest= — optional last chunk, then commit. */
export async function finishUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  const { sessions } = ctx.deps;
  const session = sessions.acquire(id, name);
  let committing = false;
  try {
    const digest = queryDigest(ctx.url.searchParams);
    await appendBody(ctx, name, session);
    committing = true;
    await commitSession(ctx, name, session, digest);
  } finally {
    if (!committing) sessions.release(session);
  }
}

/** DELETE /v2/<name>/blobs/uploads/<id> — cancel; the partial is deleted. */
export async function cancelUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  const { sessions } = ctx.deps;
  const session = sessions.acquire(id, name);
  await sessions.cancel(session);
  sendEmpty(ctx.res, 204);
}
