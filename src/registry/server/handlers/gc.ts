import { DEFAULT_GC_GRACE_MS, type PrunedManifest } from '../../../store/index.js';
import type { ServeGcManifest, ServeGcReport } from '../../api/index.js';
import type { RequestContext } from '../context.js';
import { sendJson } from '../respond.js';

// POST /ferry/v1/gc[?repository=NAME][&dry-run=1]: what `ferry prune --untagged`
// asks of ferry serve. A registry that is also the store needs no receipts to
// find untagged manifests: the store's own prune unlinks them (they stop
// resolving at once) and its GC sweeps the blobs nothing reaches any more, with
// the store's grace window, pins and in-flight ingests protecting live pushes.

function byRepository(manifests: readonly PrunedManifest[]): ServeGcManifest[] {
  return manifests.flatMap((m) => {
    const entry = (repository: string): ServeGcManifest => ({ repository, digest: m.digest, ...(m.mediaType ? { mediaType: m.mediaType } : {}) });
    return m.repositories.length === 0 ? [entry('')] : m.repositories.map(entry);
  });
}

/** `repository` undefined: the whole registry (the router required delete on every repository). */
export async function collectGarbage(ctx: RequestContext, repository: string | undefined, dryRun: boolean): Promise<void> {
  const { store } = ctx.deps;
  const only = repository === undefined ? undefined : [repository];
  const options = { dryRun, ...(only ? { only } : {}) };
  const pruned = await store.pruneUntagged(options);
  const swept = await store.gc(options);
  const report: ServeGcReport = {
    dryRun,
    ...(repository === undefined ? {} : { repository }),
    manifests: byRepository(pruned.manifests),
    blobs: { count: swept.blobs, bytes: swept.bytes },
    retained: { manifests: byRepository(pruned.retained), blobs: swept.retained.blobs, bytes: swept.retained.bytes },
    graceSeconds: DEFAULT_GC_GRACE_MS / 1000,
  };
  sendJson(ctx.req, ctx.res, 200, report);
}
