import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isFerryError } from '../core/index.js';
import type { Ingester, IngestStatus } from './ingester.js';
import { isProcessAlive } from '../core/process-alive.js';
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
  /** Ingests removed: nobody writes them, and their blob is committed or they are older than the TTL. */
  removed: IngestStatus[];
  bytes: number;
  /** Stray files (temp files of dead writers, partials without a sidecar) and index rows without files that were also dropped. */
  strays: number;
}

/** `bytes-<pid>-<hex>.partial` (a manifest commit) or `<key>.json.<pid>.tmp` (a sidecar write): the pid that wrote it. */
function writerPid(name: string): number | undefined {
  const m = /^bytes-(\d+)-[0-9a-f]+\.partial$/.exec(name) ?? /^[0-9a-f]{64}\.json\.(\d+)\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

const ownedBy = (ctx: StoreContext, ref: string, pid: number): boolean => ctx.locks.isHeld(ref) || (pid !== 0 && isProcessAlive(pid));

/**
 * The ingest janitor (distribution's PurgeUploads, run by GC too): removes ingests
 * that no process owns when their blob is committed (a rerun fetched it through
 * another ref, or mounted it) or when they are older than the TTL; temp files of
 * writers that died; partials without a sidecar; and ingest rows whose files are
 * gone and whose writer is dead (they would pin blobs forever). An ingest some
 * live process holds is never touched.
 */
export async function cleanIngests(ctx: StoreContext, ingester: Ingester, options: CleanIngestsOptions = {}): Promise<CleanIngestsReport> {
  const dryRun = options.dryRun ?? false;
  const cutoff = ctx.clock() - (options.olderThanMs ?? DEFAULT_INGEST_TTL_MS);
  const committed = (s: IngestStatus): boolean => s.expected?.digest !== undefined && ctx.index.blobs.get(s.expected.digest) !== undefined;
  const removed: IngestStatus[] = [];
  const listed = await ingester.list();
  for (const s of listed) {
    if (s.active || (s.updatedAt >= cutoff && !committed(s))) continue;
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
  const kept = listed.filter((s) => !removed.includes(s));
  const rows = ctx.index.ingests.all();
  // Files a live writer may be creating or deleting right now, and the ingests that stay.
  const keep = new Set([
    ...kept.map((s) => ctx.layout.ingestPaths(s.ref).key),
    ...rows.filter((r) => ownedBy(ctx, r.ref, r.pid)).map((r) => ctx.layout.ingestPaths(r.ref).key),
  ]);
  let strays = 0;
  for (const name of await readdir(ctx.layout.ingestDir).catch(() => [] as string[])) {
    const pid = writerPid(name);
    const file = join(ctx.layout.ingestDir, name);
    if (pid === undefined) {
      if (keep.has(name.split('.')[0] ?? '') || removed.some((s) => ctx.layout.ingestPaths(s.ref).key === name.split('.')[0])) continue;
    } else if (isProcessAlive(pid) && ((await stat(file).catch(() => undefined))?.mtimeMs ?? Infinity) >= cutoff) {
      continue;
    }
    strays++;
    if (!dryRun) await rm(file, { force: true });
  }
  const liveRefs = new Set(kept.map((s) => s.ref));
  const orphanRows = rows.filter((row) => !liveRefs.has(row.ref) && !removed.some((s) => s.ref === row.ref) && !ownedBy(ctx, row.ref, row.pid));
  if (!dryRun) for (const row of orphanRows) ctx.index.ingests.delete(row.ref);
  strays += orphanRows.length;
  return { dryRun, removed, bytes: removed.reduce((n, s) => n + s.offset, 0), strays };
}
