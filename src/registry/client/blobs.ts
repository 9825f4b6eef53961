import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ErrorCode, NetworkError, type Descriptor, type Digest } from '../../core/index.js';
import { blobPath } from '../api/index.js';
import { repositoryScope } from './auth/scope.js';
import { networkError } from './network-error.js';
import { readScope, where, type RepoContext } from './repo-context.js';
import { discard, dropBody, headerOf, type HttpResponse } from './transport/exchange.js';
import { redactUrl } from './transport/redact.js';

// HEAD, GET (from an offset, for resuming) and DELETE of blobs. Bodies stream
// straight from the socket; nothing is verified here — callers verify while they copy.

/** Does the repository hold this blob? A redirect counts as yes (it points at storage we need not touch). */
export async function blobExists(ctx: RepoContext, digest: Digest, signal?: AbortSignal): Promise<boolean> {
  const res = await ctx.http.request({
    method: 'HEAD', url: blobPath(ctx.name, digest), scopes: [readScope(ctx)],
    ok: [200, 301, 302, 303, 307, 308, 404], redirects: false, signal,
  });
  await discard(res);
  return res.status !== 404;
}

/**
 * Drops the first `skip` bytes (a server that ignored our Range and sent it all)
 * and turns socket failures mid-body into NetworkErrors (which resumable readers retry).
 */
class BlobBody extends Transform {
  private skip: number;
  constructor(skip: number) {
    super();
    this.skip = skip;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.skip >= chunk.length) {
      this.skip -= chunk.length;
      done();
      return;
    }
    const out = this.skip > 0 ? chunk.subarray(this.skip) : chunk;
    this.skip = 0;
    done(null, out);
  }
}

function relay(res: HttpResponse, skip: number): Readable {
  const out = new BlobBody(skip);
  res.body.on('error', (e) => out.destroy(networkError('GET', res.url, e) as Error));
  // A consumer that stops reading (destroy) must close the socket, not leave it streaming.
  out.on('close', () => {
    dropBody(res);
  });
  res.body.pipe(out);
  return out;
}

/** Content-Range `bytes START-END/TOTAL` → START, or undefined. */
function rangeStart(value: string | undefined): number | undefined {
  const m = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * A blob's bytes from `offset` on (Range), following redirects to storage without our Authorization.
 * Nothing is asked when `offset` is already the blob's size (a resumed ingest that holds it all). A 416
 * to a resumed request restarts the blob from byte 0, skipping what the caller holds: the server cannot
 * serve from there, so what it has differs from what we hold, and the caller's digest check drops the
 * partial that disagrees instead of asking for the same range forever.
 */
export async function openBlob(ctx: RepoContext, desc: Descriptor, offset = 0, signal?: AbortSignal): Promise<Readable> {
  if (offset > 0 && offset >= desc.size) return Readable.from([]);
  const get = (from: number) =>
    ctx.http.request({
      method: 'GET', url: blobPath(ctx.name, desc.digest), headers: from > 0 ? { range: `bytes=${from}-` } : {},
      scopes: [repositoryScope(ctx.name, 'pull')], ok: from > 0 ? [200, 206, 416] : [200, 206], signal,
    });
  let res = await get(offset);
  if (res.status === 416) {
    dropBody(res); // distribution declares the blob's length on a 416 and sends a line: never wait for the rest
    res = await get(0);
  }
  if (res.status === 206) {
    const start = rangeStart(headerOf(res.headers, 'content-range'));
    if (start !== offset) {
      dropBody(res);
      throw new NetworkError(`GET ${redactUrl(res.url)}: asked for bytes from ${offset}, the server sent a range starting at ${String(start)}`, {
        code: ErrorCode.registry,
      });
    }
    return relay(res, 0);
  }
  // 200 to a Range request (or to the restart after a 416): the server sent the whole blob; skip what we have.
  return relay(res, offset);
}

/** Fetches any URL with the client's TLS settings, no registry auth (foreign layers' `urls`); a 416 restarts from 0 as in openBlob. */
export async function openUrl(ctx: Pick<RepoContext, 'http'>, url: URL, offset = 0, signal?: AbortSignal): Promise<Readable> {
  const get = (from: number) =>
    ctx.http.request({ method: 'GET', url, headers: from > 0 ? { range: `bytes=${from}-` } : {}, scopes: [], ok: from > 0 ? [200, 206, 416] : [200, 206], noAuth: true, signal });
  let res = await get(offset);
  if (res.status === 416) {
    dropBody(res);
    res = await get(0);
  }
  if (res.status === 206 && rangeStart(headerOf(res.headers, 'content-range')) !== offset) {
    dropBody(res);
    throw new NetworkError(`GET ${redactUrl(url)}: the server answered a different range than asked`, { code: ErrorCode.registry });
  }
  return relay(res, res.status === 206 ? 0 : offset);
}

export async function deleteBlob(ctx: RepoContext, digest: Digest, signal?: AbortSignal): Promise<void> {
  const res = await ctx.http.request({
    method: 'DELETE', url: blobPath(ctx.name, digest), scopes: [repositoryScope(ctx.name, 'delete')], ok: [200, 202, 204], signal,
  });
  await discard(res);
}

export function blobSubject(ctx: RepoContext, digest: Digest): string {
  return where(ctx, `@${digest}`);
}
