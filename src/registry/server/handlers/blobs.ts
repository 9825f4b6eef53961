import { open } from 'node:fs/promises';
import { MediaType, NotFoundError, type Digest } from '../../../core/index.js';
import { Header } from '../../api/index.js';
import { watchAnswer } from '../client-idle.js';
import type { RequestContext } from '../context.js';
import { parseRangeHeader } from '../range.js';
import { ServerError, baseHeaders, sendEmpty } from '../respond.js';
import { sendFileRange } from '../send-file.js';
import { readFromRepository, type ReadTarget } from '../store-access.js';

// GET/HEAD/DELETE /v2/<name>/blobs/<digest>. A blob is served only from a
// repository that links it, streamed from its file (Range honoured), never buffered.

function blobUnknown(name: string, digest: Digest): ServerError {
  return new ServerError('BLOB_UNKNOWN', `blob ${digest} is not in repository ${name}`, { detail: { digest } });
}

export async function getBlob(ctx: RequestContext, target: ReadTarget, digest: Digest): Promise<void> {
  const { req, res } = ctx;
  const { name } = target;
  const stat = await readFromRepository(ctx, target, (repo) => repo.stat(digest)).catch((err: unknown) => {
    throw err instanceof NotFoundError ? blobUnknown(name, digest) : err;
  });
  const range = parseRangeHeader(req.headers.range, stat.size);
  const headers = {
    ...baseHeaders(),
    [Header.contentDigest]: digest,
    'content-type': MediaType.octetStream,
    'accept-ranges': 'bytes',
    etag: `"${digest}"`,
    'cache-control': 'max-age=31536000',
  };
  if (range.kind === 'unsatisfiable') {
    throw new ServerError('RANGE_INVALID', `range '${req.headers.range ?? ''}' is outside the blob's ${stat.size} bytes`, {
      headers: { 'content-range': `bytes */${stat.size}` },
    });
  }
  if (req.method === 'HEAD') {
    // Pushers HEAD a blob and skip uploading it when it is there: keep it until their manifest arrives.
    if (!ctx.deps.readOnly) ctx.deps.pins.pin(digest);
    res.writeHead(200, { ...headers, 'content-length': stat.size });
    res.end();
    return;
  }
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : stat.size - 1;
  // Opened before the headers go out: a blob swept meanwhile is still a clean 404.
  const file = await open(ctx.deps.store.blobPath(digest), 'r').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? blobUnknown(name, digest) : err;
  });
  watchAnswer(res, ctx.deps.idleTimeoutMs);
  if (range.kind === 'partial') {
    res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${stat.size}` });
  } else {
    res.writeHead(200, { ...headers, 'content-length': stat.size });
  }
  await sendFileRange(res, file, start, end);
}

export async function deleteBlob(ctx: RequestContext, name: string, digest: Digest): Promise<void> {
  const removed = await ctx.deps.store.repository(name).unlinkBlob(digest);
  if (!removed) throw blobUnknown(name, digest);
  sendEmpty(ctx.res, 202, { [Header.contentDigest]: digest });
}
