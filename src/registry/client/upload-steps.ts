import { ErrorCode, NetworkError, type Digest } from '../../core/index.js';
import { uploadsPath } from '../api/index.js';
import { repositoryScope } from './auth/scope.js';
import type { RepoContext } from './repo-context.js';
import { discard, headerOf, type HttpResponse, type RequestBody } from './transport/exchange.js';
import { nextLocation } from './transport/location.js';
import { redactUrl } from './transport/redact.js';

// The blob upload protocol as named steps (ggcr write.go; distribution
// blobupload.go): initiate (optionally as a mount), send data, ask status,
// commit, cancel. Every step returns the next Location: registries may change it.

function locationOf(res: HttpResponse, from: URL): URL {
  const location = headerOf(res.headers, 'location');
  if (!location) throw new NetworkError(`${redactUrl(from)}: the registry answered ${res.status} without a Location`, { code: ErrorCode.registry });
  return nextLocation(from, location);
}

export type Initiated = { mounted: true } | { mounted: false; location: URL };

/** POST /blobs/uploads/ — with `mount` + `from`, a cross-repository mount: 201 mounted, 202 upload started instead. */
export async function initiateUpload(ctx: RepoContext, mount?: { digest: Digest; from: string }, signal?: AbortSignal): Promise<Initiated> {
  const url = ctx.http.url(uploadsPath(ctx.name));
  const scopes = [repositoryScope(ctx.name, 'pull', 'push')];
  if (mount) {
    url.searchParams.set('mount', mount.digest);
    url.searchParams.set('from', mount.from);
    scopes.push(repositoryScope(mount.from, 'pull'));
  }
  const res = await ctx.http.request({ method: 'POST', url, headers: { 'content-length': '0' }, scopes, ok: [201, 202], signal });
  await discard(res);
  if (res.status === 201 && mount) return { mounted: true };
  return { mounted: false, location: locationOf(res, url) };
}

/** PUT `location?digest=` with the last (or only) bytes; 201 = committed. */
export async function commitUpload(
  ctx: RepoContext,
  location: URL,
  digest: Digest,
  body: { data: RequestBody; length: number } | undefined,
  signal?: AbortSignal,
): Promise<HttpResponse> {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(body?.length ?? 0) };
  const res = await ctx.http.request({
    method: 'PUT', url, headers, body: body?.data, scopes: [repositoryScope(ctx.name, 'pull', 'push')], ok: [201, 204],
    // A commit without a body is idempotent enough to retry; a streamed one is retried by its owner.
    retry: body === undefined ? true : false, signal,
  });
  await discard(res);
  return res;
}

/** PATCH one chunk at `start`; returns the next Location. */
export async function patchChunk(ctx: RepoContext, location: URL, start: number, data: RequestBody, length: number, signal?: AbortSignal): Promise<URL> {
  const res = await ctx.http.request({
    method: 'PATCH', url: location,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(length), 'content-range': `${start}-${start + length - 1}` },
    body: data, scopes: [repositoryScope(ctx.name, 'pull', 'push')], ok: [202, 204], retry: false, signal,
  });
  await discard(res);
  return headerOf(res.headers, 'location') ? locationOf(res, location) : location;
}

/** GET the upload's status: how many bytes the registry holds (`Range: 0-N` = N+1 bytes) and the next Location. */
export async function uploadStatus(ctx: RepoContext, location: URL, signal?: AbortSignal): Promise<{ offset: number; location: URL }> {
  const res = await ctx.http.request({ method: 'GET', url: location, scopes: [repositoryScope(ctx.name, 'pull', 'push')], ok: [204, 200], signal });
  await discard(res);
  const range = /^(?:bytes=)?(\d+)-(\d+)$/.exec(headerOf(res.headers, 'range')?.trim() ?? '');
  // distribution writes "0-0" for an empty upload as well as for one byte; read it as empty (the safe side).
  const offset = range ? (Number(range[2]) === 0 ? 0 : Number(range[2]) + 1) : 0;
  return { offset, location: headerOf(res.headers, 'location') ? locationOf(res, location) : location };
}

/** DELETE the session so the registry drops what it received (after a failed or tampered upload). */
export async function cancelUpload(ctx: RepoContext, location: URL): Promise<void> {
  try {
    const res = await ctx.http.request({ method: 'DELETE', url: location, scopes: [repositoryScope(ctx.name, 'pull', 'push')], ok: [200, 202, 204, 404] });
    await discard(res);
  } catch {
    // Best effort: the registry's upload purger removes abandoned sessions anyway.
  }
}
