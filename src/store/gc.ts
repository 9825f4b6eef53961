import { readdirSync, renameSync, statSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, UsageError, digestFromHex, type Digest, type MediaTypeName } from '../core/index.js';
import type { Unmarked } from './db/mark.js';
import { isErrno } from './durable-fs.js';
import type { Ingester } from './ingester.js';
import { cleanIngests, type CleanIngestsReport } from './janitor.js';
import type { StoreContext } from './store-context.js';

/** Default grace window: a blob committed, linked or checked this recently is never swept. */
export const DEFAULT_GC_GRACE_MS = 10 * 60_000;

export interface GcOptions {
  /** Report what would go; remove nothing. */
  dryRun?: boolean;
  /**
   * Keep anything committed, linked or touched (exists/HEAD) within this many
   * milliseconds, and everything under it: a `docker push` uploads layers minutes
   * before the manifest that names them. Default 10 minutes.
   */
  graceMs?: number;
  /** Ingests nobody writes are removed once untouched this long (their blob committed: at once). Default 24 hours. */
  ingestTtlMs?: number;
  /**
   * Sweep only what no repository outside these links (ferry serve's
   * `?repository=`): another repository's untagged content, and files without an
   * index row, wait for a GC of the whole store.
   */
  only?: readonly string[];
}

export interface SweptBlob {
  digest: Digest;
  size: number;
  mediaType: MediaTypeName | undefined;
  manifest: boolean;
}

export interface GcReport {
  dryRun: boolean;
  /** What was (or, in a dry run, would be) removed, sorted by digest. */
  removed: SweptBlob[];
  blobs: number;
  bytes: number;
  manifests: number;
  /** Files in blobs/ without an index row (left by a crash), older than the grace window. */
  orphanFiles: number;
  /** Unreachable from any tag, but kept for now: in flight, pinned, or inside the grace window. */
  retained: { blobs: number; bytes: number };
  /** What the ingest janitor removed first (stale ingests no longer pin their blobs). */
  ingests: { removed: number; bytes: number; strays: number };
}

interface Plan {
  garbage: Unmarked[];
  unreachable: Unmarked[];
  orphans: string[];
}

const HEX64 = /^[a-f0-9]{64}$/;

/** Files in blobs/ that have no index row and are older than `cutoff`. */
function orphanFiles(ctx: StoreContext, cutoff: number): string[] {
  const known = ctx.index.blobs.digests();
  return readdirSync(ctx.layout.blobsDir).filter((name) => {
    if (!HEX64.test(name) || known.has(`sha256:${name}`)) return false;
    return (statSync(join(ctx.layout.blobsDir, name), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < cutoff;
  });
}

function plan(ctx: StoreContext, graceMs: number, only: ReadonlySet<string> | undefined): Plan {
  const cutoff = ctx.clock() - graceMs;
  const garbage = ctx.index.mark.garbage(cutoff);
  if (!only) return { garbage, unreachable: ctx.index.mark.unreachable(), orphans: orphanFiles(ctx, cutoff) };
  const mine = (u: Unmarked) => ctx.index.repos.linkedIn(u.digest).every((r) => only.has(r));
  return { garbage: garbage.filter(mine), unreachable: ctx.index.mark.unreachable().filter(mine), orphans: [] };
}

function report(p: Plan, dryRun: boolean, janitor: CleanIngestsReport): GcReport {
  const removed = p.garbage.map((g) => ({ digest: g.digest, size: g.size, mediaType: g.mediaType ?? undefined, manifest: g.isManifest !== 0 }));
  const swept = new Set(removed.map((r) => r.digest));
  const retained = p.unreachable.filter((u) => !swept.has(u.digest));
  return {
    dryRun,
    removed,
    blobs: removed.length,
    bytes: removed.reduce((n, r) => n + r.size, 0),
    manifests: removed.filter((r) => r.manifest).length,
    orphanFiles: p.orphans.length,
    retained: { blobs: retained.length, bytes: retained.reduce((n, r) => n + r.size, 0) },
    ingests: { removed: janitor.removed.length, bytes: janitor.bytes, strays: janitor.strays },
  };
}

/**
 * Puts back blobs an interrupted GC moved to trash/ without committing its index
 * changes, and deletes the rest. Under the write lock, so no sweep is mid-way.
 */
async function emptyTrash(ctx: StoreContext): Promise<void> {
  const names = await readdir(ctx.layout.trashDir).catch(() => [] as string[]);
  if (names.length === 0) return;
  const doomed = ctx.index.immediate(() =>
    names.filter((name) => {
      const hex = name.split('.')[0] ?? '';
      if (!HEX64.test(hex)) return true;
      const digest = digestFromHex(hex);
      if (!ctx.index.blobs.get(digest) || statSync(ctx.layout.blobPath(digest), { throwIfNoEntry: false })) return true;
      renameSync(join(ctx.layout.trashDir, name), ctx.layout.blobPath(digest));
      return false;
    }),
  );
  await Promise.all(doomed.map((name) => unlink(join(ctx.layout.trashDir, name)).catch(() => undefined)));
}

/**
 * Mark and sweep (distribution MarkAndSweep, made safe for a live registry), after
 * the ingest janitor has dropped ingests no process owns whose blob is committed or
 * whose TTL passed (a stale ingest row would pin its blob for ever). Mark:
 * from every tag and kept manifest along the edges, plus referrers of whatever is
 * marked, plus everything in-flight ingests and pins name and everything inside the
 * grace window. Sweep: under BEGIN IMMEDIATE (the same lock every commit takes, so
 * two GCs or a GC and a commit never interleave), each unmarked blob is renamed into
 * trash/ and its rows dropped; the files are unlinked after the lock is released.
 */
export async function collectGarbage(ctx: StoreContext, ingester: Ingester, options: GcOptions = {}): Promise<GcReport> {
  const dryRun = options.dryRun ?? false;
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const only = options.only ? new Set(options.only) : undefined;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new UsageError(`invalid GC grace window ${graceMs} ms`, { code: ErrorCode.usage });
  if (!dryRun && ctx.readOnly) throw new UsageError('cannot collect garbage in a store opened read-only', { code: ErrorCode.usage });
  const janitor = await cleanIngests(ctx, ingester, { dryRun, ...(options.ingestTtlMs === undefined ? {} : { olderThanMs: options.ingestTtlMs }) });
  if (dryRun) return report(ctx.index.read(() => plan(ctx, graceMs, only)), true, janitor);
  await emptyTrash(ctx);
  const tag = `${process.pid}-${Date.now()}`;
  const moved: string[] = [];
  const p = ctx.index.immediate(() => {
    const p = plan(ctx, graceMs, only);
    const toTrash = (file: string, hex: string) => {
      const dest = join(ctx.layout.trashDir, `${hex}.${tag}`);
      try {
        renameSync(file, dest);
        moved.push(dest);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    };
    for (const g of p.garbage) {
      toTrash(ctx.layout.blobPath(g.digest), g.digest.slice(7));
      ctx.index.blobs.delete(g.digest); // cascades to manifests, edges and links
    }
    for (const hex of p.orphans) toTrash(join(ctx.layout.blobsDir, hex), hex);
    ctx.index.manifests.pruneForeignUrls();
    ctx.index.repos.deleteEmpty();
    return p;
  });
  await Promise.all(moved.map((file) => unlink(file).catch(() => undefined)));
  return report(p, false, janitor);
}

