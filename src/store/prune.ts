import { ErrorCode, UsageError, type Digest, type MediaTypeName } from '../core/index.js';
import { DEFAULT_GC_GRACE_MS } from './gc.js';
import type { StoreContext } from './store-context.js';

export interface PruneOptions {
  dryRun?: boolean;
  /** Manifests touched this recently are left alone (a push may be about to tag them). Default as GC. */
  graceMs?: number;
}

export interface PrunedManifest {
  digest: Digest;
  mediaType: MediaTypeName | undefined;
  /** Repositories it was linked in. */
  repositories: string[];
}

export interface PruneReport {
  dryRun: boolean;
  manifests: PrunedManifest[];
}

/**
 * Deletes manifests no tag reaches (and not kept): unlinked from every repository,
 * their rows and edges dropped, so they stop resolving at once. Their bytes, and the
 * blobs only they named, are left for the next GC to sweep. The same mark as GC
 * decides, so a referrer of a tagged image and anything in flight are kept.
 */
export async function pruneUntagged(ctx: StoreContext, options: PruneOptions = {}): Promise<PruneReport> {
  const dryRun = options.dryRun ?? false;
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new UsageError(`invalid prune grace window ${graceMs} ms`, { code: ErrorCode.usage });
  if (!dryRun && ctx.readOnly) throw new UsageError('cannot prune a store opened read-only', { code: ErrorCode.usage });
  const plan = (): PrunedManifest[] =>
    ctx.index.mark
      .garbage(ctx.clock() - graceMs)
      .filter((g) => g.isManifest !== 0)
      .map((g) => ({ digest: g.digest, mediaType: g.mediaType ?? undefined, repositories: ctx.index.repos.linkedIn(g.digest) }));
  if (dryRun) return { dryRun, manifests: ctx.index.read(plan) };
  const manifests = ctx.index.immediate(() => {
    const doomed = plan();
    for (const m of doomed) {
      ctx.index.repos.unlinkEverywhere(m.digest);
      ctx.index.manifests.delete(m.digest); // edges cascade; the blob row stays for GC
    }
    ctx.index.repos.deleteEmpty();
    return doomed;
  });
  return { dryRun, manifests };
}
