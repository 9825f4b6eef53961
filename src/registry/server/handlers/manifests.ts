import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  ErrorCode,
  IntegrityError,
  MAX_MANIFEST_BYTES,
  MediaType,
  NotFoundError,
  digestOf,
  isDigest,
  isIndex,
  isManifest,
  parseManifest,
  successors,
  type Descriptor,
  type Manifest,
  type MediaTypeName,
} from '../../../core/index.js';
import { Header } from '../../api/index.js';
import { watchAnswer } from '../client-idle.js';
import type { RequestContext } from '../context.js';
import { readSmallBody } from '../request-body.js';
import { ServerError, baseHeaders, sendEmpty } from '../respond.js';
import { readFromRepository, type ReadTarget } from '../store-access.js';

// GET/HEAD/PUT/DELETE /v2/<name>/manifests/<tag|digest>. Content-Type is the type
// the manifest was pushed with; PUT checks the digest, the 4 MiB cap, and that
// every child is linked in this repository (foreign layers with `urls` excepted).

export function manifestUnknown(name: string, reference: string): ServerError {
  return new ServerError('MANIFEST_UNKNOWN', `manifest ${reference} is not in repository ${name}`, { detail: { name, reference } });
}

/**
 * The bytes of a manifest that resolve() found linked here, straight from its file: one open and one
 * positional read into a buffer of its recorded size. A read stream's machinery cost more than the
 * read itself for a few KiB (a fifth of a manifest GET's server CPU).
 */
async function readManifestFile(ctx: RequestContext, name: string, desc: Descriptor): Promise<Buffer> {
  const subject = `${name}@${desc.digest}`;
  if (desc.size > MAX_MANIFEST_BYTES) {
    throw new IntegrityError(`${subject}: larger than the ${MAX_MANIFEST_BYTES}-byte limit for metadata`, { code: ErrorCode.manifestTooLarge, subject });
  }
  // Swept between the lookup and here: a clean 404, as for a blob.
  const file = await open(ctx.deps.store.blobPath(desc.digest), 'r').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? manifestUnknown(name, desc.digest) : err;
  });
  try {
    const bytes = Buffer.allocUnsafe(desc.size);
    for (let pos = 0; pos < desc.size; ) {
      const { bytesRead } = await file.read(bytes, pos, desc.size - pos, pos);
      // The store's fault, not the client's: a 500.
      if (bytesRead === 0) throw new Error(`${subject}: the file ends at byte ${pos} of ${desc.size}`);
      pos += bytesRead;
    }
    return bytes;
  } finally {
    await file.close();
  }
}

export async function getManifest(ctx: RequestContext, target: ReadTarget, reference: string): Promise<void> {
  const { req, res } = ctx;
  const { name } = target;
  const desc = await readFromRepository(ctx, target, (repo) => repo.resolve(reference)).catch((err: unknown) => {
    throw err instanceof NotFoundError ? manifestUnknown(name, reference) : err;
  });
  const bytes = req.method === 'HEAD' ? undefined : await readManifestFile(ctx, name, desc);
  if (bytes) watchAnswer(res, ctx.deps.idleTimeoutMs);
  res.writeHead(200, {
    ...baseHeaders(),
    'content-type': desc.mediaType,
    'content-length': desc.size,
    [Header.contentDigest]: desc.digest,
    etag: `"${desc.digest}"`,
  });
  res.end(bytes);
}

/** The manifest's own mediaType wins over a generic or absent Content-Type; a contradiction is refused. */
function mediaTypeOf(contentType: string | undefined, manifest: Manifest): MediaTypeName {
  const declared = (contentType ?? '').split(';')[0]?.trim() ?? '';
  const own = manifest.mediaType;
  if (isManifest(declared) && isManifest(own) && declared !== own) {
    throw new ServerError('MANIFEST_INVALID', `Content-Type ${declared} contradicts the manifest's mediaType ${own}`);
  }
  if (isManifest(own)) return own;
  if (isManifest(declared)) return declared;
  return manifest.kind === 'index' ? MediaType.ociIndex : MediaType.ociManifest;
}

export async function putManifest(ctx: RequestContext, name: string, reference: string): Promise<void> {
  const { req, res } = ctx;
  const bytes = await readSmallBody(req, MAX_MANIFEST_BYTES);
  if (!bytes) throw new ServerError('MANIFEST_INVALID', `manifest larger than the ${MAX_MANIFEST_BYTES}-byte limit`, { status: 413 });
  const digest = digestOf(bytes);
  if (isDigest(reference) && reference !== digest) {
    throw new ServerError('DIGEST_INVALID', `manifest bytes hash to ${digest}, not ${reference}`, { detail: { digest } });
  }
  const contentType = req.headers['content-type'];
  const manifest = parseManifest(bytes, isManifest(contentType) ? contentType : undefined, `manifest ${name}:${reference}`);
  const desc: Descriptor = { mediaType: mediaTypeOf(contentType, manifest), digest, size: bytes.length };
  const repo = ctx.deps.store.repository(name);
  // Pinned first: a GC between this check and the commit below must not take a child (or this manifest).
  ctx.deps.pins.pin(digest, ...successors(manifest).map((d) => d.digest));
  const missing = repo.missingChildren(desc, bytes);
  if (missing.length > 0) {
    const what = missing.map((d) => d.digest).join(', ');
    throw new ServerError('MANIFEST_BLOB_UNKNOWN', `manifest references ${isIndex(desc.mediaType) ? 'manifests' : 'blobs'} not in ${name}: ${what}`, {
      detail: missing.map((d) => ({ digest: d.digest, mediaType: d.mediaType })),
    });
  }
  await repo.push(desc, Readable.from([bytes]));
  if (!isDigest(reference)) await repo.tag(reference, desc);
  const headers: Record<string, string> = { [Header.location]: `/v2/${name}/manifests/${digest}`, [Header.contentDigest]: digest };
  if (manifest.subject) headers[Header.ociSubject] = manifest.subject.digest;
  sendEmpty(res, 201, headers);
}

export async function deleteManifest(ctx: RequestContext, name: string, reference: string): Promise<void> {
  const repo = ctx.deps.store.repository(name);
  const removed = isDigest(reference) ? await repo.deleteManifest(reference) : await repo.untag(reference);
  if (!removed) throw manifestUnknown(name, reference);
  sendEmpty(ctx.res, 202);
}
