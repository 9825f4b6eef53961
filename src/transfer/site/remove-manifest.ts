import pLimit from 'p-limit';
import {
  ANNOTATION_REFERRER_TAG, NotFoundError, digestHex, isIndex, referenceTarget,
  type Descriptor, type Digest, type Reference,
} from '../../core/index.js';
import type { RegistryClient, RemoteRepository } from '../../registry/client/index.js';
import { explainNotFound } from './nearest-tags.js';
import { repositoryRef } from './site-target.js';

// `ferry rm REF`: a tag is resolved to its manifest and the manifest is deleted
// by digest — the only delete distribution and ACR both offer — so every tag on
// that digest goes with it; the plan names them first (and `dryRun` stops
// there). Referrers (signatures, SBOMs) of the manifest are listed before it
// goes and, with `withReferrers`, deleted after it, with the tag-schema index
// that listed them. Blob space returns only with the registry's own GC.

export interface RemoveOptions {
  readonly dryRun?: boolean;
  readonly withReferrers?: boolean;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

export interface RemovedReferrer {
  reference: string;
  digest: Digest;
  artifactType?: string;
  tag?: string;
}

export interface Removal {
  /** What was asked, normalised: `host/repo:tag` or `host/repo@digest`. */
  reference: string;
  /** `host/repo@digest`: what is (or would be) deleted. */
  manifest: string;
  digest: Digest;
  mediaType: string;
  /** Every tag that pointed at the digest: they all go with it. */
  tags: string[];
  /** For an index: how many child manifests stay behind, untagged. */
  children: number;
  referrers: RemovedReferrer[];
  /** The tag-schema index (`sha256-<hex>`) that listed the referrers, when there is one. */
  referrersIndex?: string;
  deleted: boolean;
  referrersDeleted: boolean;
}

/** Tags of `repo` that resolve to `digest` (every tag is asked: a registry has no reverse lookup). */
export async function tagsOn(repo: RemoteRepository, digest: Digest, concurrency: number, signal?: AbortSignal): Promise<string[]> {
  const tags: string[] = [];
  for await (const tag of repo.tags(signal ? { signal } : {})) tags.push(tag);
  const limit = pLimit(concurrency);
  const hits = await Promise.all(
    tags.map((tag) => limit(async () => ((await repo.resolve(tag, signal ? { signal } : {}).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e))))?.digest === digest ? tag : undefined))),
  );
  return hits.filter((t): t is string => t !== undefined);
}

async function referrersOf(repo: RemoteRepository, desc: Descriptor, name: string, signal?: AbortSignal): Promise<RemovedReferrer[]> {
  const out: RemovedReferrer[] = [];
  for await (const d of repo.referrers(desc, signal ? { signal } : {})) {
    const r: RemovedReferrer = { reference: `${name}@${d.digest}`, digest: d.digest };
    if (d.artifactType) r.artifactType = d.artifactType;
    const tag = d.annotations?.[ANNOTATION_REFERRER_TAG];
    if (tag) r.tag = tag;
    out.push(r);
  }
  return out;
}

/** Deletes a manifest by digest; true when it was there (a 404 means another delete was first). */
async function deleteQuietly(repo: RemoteRepository, desc: Descriptor, signal?: AbortSignal): Promise<boolean> {
  try {
    await repo.delete(desc, signal ? { signal } : {});
    return true;
  } catch (e) {
    if (e instanceof NotFoundError) return false;
    throw e;
  }
}

export async function removeManifest(client: RegistryClient, ref: Reference, opts: RemoveOptions = {}): Promise<Removal> {
  const { signal } = opts;
  const repo = client.repository(ref.repository);
  const name = repositoryRef(client.registry, ref.repository);
  // A typo names what is there instead (the nearest tags), as export and copy do.
  const desc = await repo.resolve(referenceTarget(ref), signal ? { signal } : {}).catch(async (e: unknown) => Promise.reject(await explainNotFound(client, ref, e, signal)));
  const fetched = isIndex(desc.mediaType) ? await repo.fetchManifest(desc.digest, signal ? { signal } : {}) : undefined;
  const children = fetched ? ((JSON.parse(Buffer.from(fetched.bytes).toString('utf8')) as { manifests?: unknown[] }).manifests?.length ?? 0) : 0;
  const [tags, referrers] = await Promise.all([tagsOn(repo, desc.digest, opts.concurrency ?? 8, signal), referrersOf(repo, desc, name, signal)]);
  const indexTag = `sha256-${digestHex(desc.digest)}`;
  const listed = referrers.length > 0 ? await repo.resolve(indexTag, signal ? { signal } : {}).catch(() => undefined) : undefined;
  const removal: Removal = {
    reference: ref.digest ? `${name}@${ref.digest}` : `${name}:${ref.tag ?? 'latest'}`,
    manifest: `${name}@${desc.digest}`,
    digest: desc.digest,
    mediaType: desc.mediaType,
    tags,
    children,
    referrers,
    ...(listed ? { referrersIndex: `${name}:${indexTag}` } : {}),
    deleted: false,
    referrersDeleted: false,
  };
  if (opts.dryRun) return removal;
  removal.deleted = await deleteQuietly(repo, desc, signal);
  if (!opts.withReferrers || referrers.length === 0) return removal;
  // The subject is gone: now its referrers, then the index that listed them.
  for (const r of referrers) {
    const target = await repo.resolve(r.digest, signal ? { signal } : {}).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
    if (target) await deleteQuietly(repo, target, signal);
  }
  if (listed) await deleteQuietly(repo, listed, signal);
  removal.referrersDeleted = true;
  return removal;
}
