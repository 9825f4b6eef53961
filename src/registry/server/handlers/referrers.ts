import { MediaType, NotFoundError, type Descriptor, type Digest } from '../../../core/index.js';
import { Header } from '../../api/index.js';
import type { RequestContext } from '../context.js';
import { sendJson } from '../respond.js';
import { readFromRepository, type ReadTarget } from '../store-access.js';

/**
 * GET /v2/<name>/referrers/<digest>[?artifactType=] — an OCI index of the manifests
 * in the repository whose subject is <digest>: the first of the target's
 * repositories the store knows, as for every other read. Never 404 (spec): an
 * unknown subject or repository has an empty list.
 */
export async function listReferrers(ctx: RequestContext, target: ReadTarget, subject: Digest): Promise<void> {
  const artifactType = ctx.url.searchParams.get('artifactType') ?? undefined;
  const manifests: Descriptor[] = await readFromRepository(ctx, target, async (repo) => {
    ctx.deps.store.listTags(repo.name, { n: 1 }); // NotFoundError for a repository the store does not know: try the next
    const out: Descriptor[] = [];
    // The store matches on the subject's digest only.
    const subjectDesc: Descriptor = { mediaType: MediaType.ociManifest, digest: subject, size: 0 };
    for await (const d of repo.referrers(subjectDesc, artifactType === undefined ? {} : { artifactType })) out.push(d);
    return out;
  }).catch((err: unknown) => {
    if (err instanceof NotFoundError) return [];
    throw err;
  });
  const headers = artifactType === undefined ? {} : { [Header.ociFiltersApplied]: 'artifactType' };
  sendJson(ctx.req, ctx.res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, { 'content-type': MediaType.ociIndex, ...headers });
}
