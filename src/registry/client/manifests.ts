import {
  ErrorCode, IntegrityError, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, MediaType, digestOf, isDigest, readCapped, refuseSchema1,
  type Descriptor, type Digest,
} from '../../core/index.js';
import { manifestPath } from '../api/index.js';
import { repositoryScope } from './auth/scope.js';
import { readScope, where, type RepoContext } from './repo-context.js';
import { discard, headerOf, type HttpResponse } from './transport/exchange.js';

// HEAD/GET/PUT/DELETE of manifests. We compute every digest from the bytes; the
// registry's Docker-Content-Digest is only cross-checked (a header is a claim).

// Schema 1 is asked for last so a registry that still has it says so (and we refuse it clearly).
const ACCEPT = [...MANIFEST_ACCEPT, MediaType.dockerSchema1Signed, MediaType.dockerSchema1].join(', ');

function mediaTypeOf(res: HttpResponse): string | undefined {
  const ct = headerOf(res.headers, 'content-type');
  const mt = ct?.split(';')[0]?.trim();
  return mt && mt !== 'application/json' && mt !== 'text/plain' && mt !== 'application/octet-stream' ? mt : undefined;
}

/** The descriptor `reference` (tag or digest) names, or undefined when the registry has no such manifest. */
export async function headManifest(ctx: RepoContext, reference: string, signal?: AbortSignal): Promise<Descriptor | undefined> {
  const res = await ctx.http.request({
    method: 'HEAD', url: manifestPath(ctx.name, reference), headers: { accept: ACCEPT },
    scopes: [readScope(ctx)], ok: [200, 400, 403, 404, 405], signal,
  });
  await discard(res);
  if (res.status === 404) return undefined;
  // A HEAD error has no body to say why; the GET's error does (DENIED "operation not allowed", NAME_INVALID…).
  if (res.status !== 200) return (await getManifest(ctx, reference, signal)).descriptor;
  const header = headerOf(res.headers, 'docker-content-digest');
  const digest = isDigest(reference) ? reference : isDigest(header) ? header : undefined;
  const size = Number(headerOf(res.headers, 'content-length'));
  const mediaType = mediaTypeOf(res);
  refuseSchema1(mediaType, where(ctx, `:${reference}`));
  // A HEAD without digest, size or type (some registries) is completed by a GET.
  if (!digest || !mediaType || !Number.isSafeInteger(size) || size <= 0) return (await getManifest(ctx, reference, signal)).descriptor;
  return { mediaType, digest, size };
}

export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

/** GETs a manifest into memory (≤ 4 MiB), checks its digest, and remembers it for tagging. */
export async function getManifest(ctx: RepoContext, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
  const subject = where(ctx, isDigest(reference) ? `@${reference}` : `:${reference}`);
  const res = await ctx.http.request({
    method: 'GET', url: manifestPath(ctx.name, reference), headers: { accept: ACCEPT },
    scopes: [readScope(ctx)], ok: [200], signal,
  });
  let mediaType = mediaTypeOf(res);
  refuseSchema1(mediaType, subject);
  const bytes = await readCapped(res.body, MAX_MANIFEST_BYTES, subject);
  const digest = digestOf(bytes);
  if (isDigest(reference) && digest !== reference) {
    throw new IntegrityError(`${subject}: the registry returned a manifest with digest ${digest}`, { code: ErrorCode.digestMismatch, subject, expected: reference, actual: digest });
  }
  const claimed = headerOf(res.headers, 'docker-content-digest');
  if (isDigest(claimed) && claimed !== digest) {
    throw new IntegrityError(`${subject}: Docker-Content-Digest says ${claimed} but the bytes hash to ${digest}`, { code: ErrorCode.digestMismatch, subject, expected: claimed, actual: digest });
  }
  if (!mediaType) {
    // OCI allows a manifest without mediaType; the document's own field, else its shape, decides.
    const doc = safeJson(bytes);
    refuseSchema1(doc?.schemaVersion === 1 ? MediaType.dockerSchema1 : undefined, subject);
    mediaType = typeof doc?.mediaType === 'string' ? doc.mediaType : Array.isArray(doc?.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  }
  const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
  const doc = safeJson(bytes);
  if (typeof doc?.artifactType === 'string') descriptor.artifactType = doc.artifactType;
  ctx.manifests.put(ctx.name, digest, { mediaType, bytes });
  return { descriptor, bytes };
}

function safeJson(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** PUTs manifest bytes under `reference` (its digest, or a tag). Replayable, so the transport may retry it. */
export async function putManifest(ctx: RepoContext, reference: string, mediaType: string, bytes: Uint8Array, signal?: AbortSignal): Promise<Digest> {
  const digest = digestOf(bytes);
  const res = await ctx.http.request({
    method: 'PUT', url: manifestPath(ctx.name, reference),
    headers: { 'content-type': mediaType, 'content-length': String(bytes.byteLength) },
    body: bytes, scopes: [repositoryScope(ctx.name, 'pull', 'push')], ok: [200, 201, 202], signal,
  });
  await discard(res);
  const claimed = headerOf(res.headers, 'docker-content-digest');
  if (isDigest(claimed) && claimed !== digest) {
    const subject = where(ctx, `:${reference}`);
    throw new IntegrityError(`${subject}: the registry stored the manifest as ${claimed}, not ${digest}`, { code: ErrorCode.digestMismatch, subject, expected: digest, actual: claimed });
  }
  ctx.manifests.put(ctx.name, digest, { mediaType, bytes });
  if (!isDigest(reference)) ctx.tagSnapshots.added(ctx.name, reference);
  return digest;
}

export async function deleteManifest(ctx: RepoContext, digest: Digest, signal?: AbortSignal): Promise<void> {
  const res = await ctx.http.request({
    method: 'DELETE', url: manifestPath(ctx.name, digest), scopes: [repositoryScope(ctx.name, 'delete')], ok: [200, 202, 204], signal,
  });
  await discard(res);
}
