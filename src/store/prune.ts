import { ErrorCode, UsageError, type Digest, type MediaTypeName } from '../core/index.js';
import type { Unmarked } from './db/mark.js';
import { DEFAULT_GC_GRACE_MS } from './gc.js';
import type { StoreContext } from './store-context.js';

export interface PruneOptions {
  dryRun?: boolean;
  /** Manifests touched this recently are left alone (a push may be about to tag them). Default as GC. */
  graceMs?: number;
  /**
   * Only these repositories: a manifest is unlinked from them alone, and its row
   * dropped only when no other repository links it (ferry serve's `?repository=`).
   */
  only?: readonly string[];
}

export interface PrunedManifest {
  digest: Digest;
  mediaType: MediaTypeName | undefined;
  /** Repositories it was (or would be) unlinked from. */
  repositories: string[];
}

export interface PruneReport {
  dryRun: boolean;
  manifests: PrunedManifest[];
  /** Untagged manifests kept for now: inside the grace window, pinned or in flight. */
  retained: PrunedManifest[];
}

function pruned(ctx: StoreContext, g: Unmarked, only: ReadonlySet<string> | undefined): PrunedManifest {
  const linked = ctx.index.repos.linkedIn(g.digest);
  return { digest: g.digest, mediaType: g.mediaType ?? undefined, repositories: only ? linked.filter((r) => only.has(r)) : linked };
}

/**
 * Deletes manifests no tag reaches (and not kept): unlinked from every repository
 * (or from `only`), their rows and edges dropped, so they stop resolving at once.
 * Their bytes, and the blobs only they named, are left for the next GC to sweep.
 * The same mark as GC decides, so a referrer of a tagged image and anything in
 * flight are kept.
 */
export async function pruneUntagged(ctx: StoreContext, options: PruneOptions = {}): Promise<PruneReport> {
  const dryRun = options.dryRun ?? false;
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const only = options.only ? new Set(options.only) : undefined;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new UsageError(`invalid prune grace window ${graceMs} ms`, { code: ErrorCode.usage });
  if (!dryRun && ctx.readOnly) throw new UsageError('cannot prune a store opened read-only', { code: ErrorCode.usage });
  const inScope = (m: PrunedManifest) => !only || m.repositories.length > 0;
  const plan = (): PruneReport => {
    const garbage = ctx.index.mark.garbage(ctx.clock() - graceMs).filter((g) => g.isManifest !== 0);
    const doomed = new Set(garbage.map((g) => g.digest));
    const manifests = garbage.map((g) => pruned(ctx, g, only)).filter(inScope);
    const retained = ctx.index.mark
      .unreachable()
      .filter((u) => u.isManifest !== 0 && !doomed.has(u.digest))
      .map((u) => pruned(ctx, u, only))
      .filter(inScope);
    return { dryRun, manifests, retained };
  };
  if (dryRun) return ctx.index.read(plan);
  return ctx.index.immediate(() => {
    const report = plan();
    for (const m of report.manifests) {
      if (!only) ctx.index.repos.unlinkEverywhere(m.digest);
      else {
        for (const name of m.repositories) {
          const id = ctx.index.repos.id(name);
          if (id !== undefined) ctx.index.repos.unlink(id, m.digest);
        }
        if (ctx.index.repos.linkingRepository(m.digest) !== undefined) continue; // another repository still links it
      }
      ctx.index.manifests.delete(m.digest); // edges cascade; the blob row stays for GC
    }
    ctx.index.repos.deleteEmpty();
    return report;
  });
}
