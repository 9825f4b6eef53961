import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isFerryError } from '../core/index.js';
import type { Ingester, IngestStatus } from './ingester.js';
import { isProcessAlive } from './process-alive.js';
import type { StoreContext } from './store-context.js';

/** Default age after which an untouched ingest is abandoned (distribution purgeuploads uses a week; we are tighter). */
export const DEFAULT_INGEST_TTL_MS = 24 * 60 * 60_000;

export interface CleanIngestsOptions {
  /** Remove ingests whose partial has not been written for this long. Default 24 hours. */
  olderThanMs?: number;
  dryRun?: boolean;
}

export interface CleanIngestsReport {
  dryRun: boolean;
  removed: IngestStatus[];
  bytes: number;
  /** Stray temp files and index rows without files that were also dropped. */
  strays: number;
}

/**
 * The ingest janitor, separate from GC (distribution's PurgeUploads): deletes stale
 * partials nobody is writing, temp files of crashed commits, and ingest rows whose
 * files are gone and whose writer is dead (they would pin blobs forever).
 */
export async function cleanIngests(ctx: StoreContext, ingester: Ingester, options: CleanIngestsOptions = {}): Promise<CleanIngestsReport> {
  const dryRun = options.dryRun ?? false;
  const cutoff = ctx.clock() - (options.olderThanMs ?? DEFAULT_INGEST_TTL_MS);
  const removed: IngestStatus[] = [];
  const listed = await ingester.list();
  for (const s of listed) {
    if (s.active || s.updatedAt >= cutoff) continue;
    if (!dryRun) {
      try {
        await ingester.abort(s.ref);
      } catch (err) {
        if (isFerryError(err)) continue; // someone started writing it meanwhile
        throw err;
      }
    }
    removed.push(s);
  }
  let strays = 0;
  // Temp files: bytes-*.partial of a crashed manifest commit, *.tmp of a torn sidecar write, partials without a sidecar.
  const sidecars = new Set(listed.map((s) => ctx.layout.ingestPaths(s.ref).key));
  for (const name of await readdir(ctx.layout.ingestDir).catch(() => [] as string[])) {
    const key = name.split('.')[0] ?? '';
    if (name.endsWith('.json') || sidecars.has(key)) continue;
    const file = join(ctx.layout.ingestDir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info || info.mtimeMs >= cutoff) continue;
    strays++;
    if (!dryRun) await rm(file, { force: true });
  }
  if (!dryRun) {
    const live = new Set(listed.filter((s) => !removed.includes(s)).map((s) => s.ref));
    const orphanRows = ctx.index.ingests
      .all()
      .filter((row) => !live.has(row.ref) && !ctx.locks.isHeld(row.ref) && (row.pid === 0 || !isProcessAlive(row.pid)));
    for (const row of orphanRows) ctx.index.ingests.delete(row.ref);
    strays += orphanRows.length;
  }
  return { dryRun, removed, bytes: removed.reduce((n, s) => n + s.offset, 0), strays };
}
