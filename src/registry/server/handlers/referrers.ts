import { MediaType, type Descriptor, type Digest } from '../../../core/index.js';
import { Header } from '../../api/headers.js';
import type { RequestContext } from '../context.js';
import { sendJson } from '../respond.js';
import { readFromRepository } from '../store-access.js';

/**
 * GET /v2/<name>/referrers/<digest>[?artifactType=] — an OCI index of the manifests
 * in this repository whose subject is <digest>. Never 404 (spec): an unknown subject
 * has an empty list.
 */
export async function listReferrers(ctx: RequestContext, name: string, subject: Digest): Promise<void> {
  const artifactType = ctx.url.searchParams.get('artifactType') ?? undefined;
  const manifests: Descriptor[] = await readFromRepository(ctx, name, async (repo) => {
    const out: Descriptor[] = [];
    // The store matches on the subject's digest only.
    const subjectDesc: Descriptor = { mediaType: MediaType.ociManifest, digest: subject, size: 0 };
    for await (const d of repo.referrers(subjectDesc, artifactType === undefined ? {} : { artifactType })) out.push(d);
    return out;
  });
  const headers = artifactType === undefined ? {} : { [Header.ociFiltersApplied]: 'artifactType' };
  sendJson(ctx.req, ctx.res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, { 'content-type': MediaType.ociIndex, ...headers });
}
