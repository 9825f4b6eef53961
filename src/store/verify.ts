import { readdirSync, renameSync, statSync, type Stats } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, IntegrityError, UsageError, type Digest, type FerryError } from '../core/index.js';
import type { EventSink } from '../core/progress-events.js';
import { RangePool, type RangeJob } from '../core/range-pool.js';
import { isErrno } from './durable-fs.js';
import type { Ingester } from './ingester.js';
import { cleanIngests } from './janitor.js';
import type { StoreContext } from './store-context.js';
import { brokenManifests, incompleteTags, type GraphSnapshot, type IncompleteTag } from './verify-graph.js';

// `ferry store verify` (containerd's `ctr content` checks, distribution's GC dry
// run): re-hash every committed blob on every core, check that every tag reaches
// complete content in its repository, and sort the ingests into owned, resumable
// and removable. `repair` drops what is corrupt so that the next export fetches it
// again: the blob and its rows go, and every manifest that no longer has all it
// needs is unlinked from its repository (so a copy does not skip it as present);
// the tags that now point at incomplete content are named, never left silent.

export interface VerifyOptions {
  repair?: boolean;
  /** Hashing threads, the calling thread included; default one per core. */
  threads?: number;
  /** The one progress channel: the verify phase with its total (before the first byte is read), then `bytes` hashed. */
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export type BlobProblem = 'missing' | 'size' | 'digest' | 'unreadable';

export interface CorruptBlob {
  digest: Digest;
  size: number;
  problem: BlobProblem;
  /** What was found instead: the digest the bytes hash to, or the bytes on disk. */
  actual?: string;
  message: string;
  /** Dropped by repair (file and rows): the next export fetches it again. */
  removed: boolean;
}

export interface StoreVerifyReport {
  /** Nothing corrupt or incomplete is left (after repair, when asked). */
  ok: boolean;
  repair: boolean;
  /** SQLite's own checks of index.db (quick_check, foreign keys); empty when sound. Repair cannot mend these. */
  index: string[];
  blobs: { checked: number; bytes: number; corrupt: CorruptBlob[]; orphanFiles: number };
  tags: { checked: number; incomplete: IncompleteTag[]; removed: Array<{ repository: string; tag: string; digest: Digest }> };
  /** Manifests repair unlinked from a repository because content under them is gone. */
  unlinked: Array<{ repository: string; digest: Digest }>;
  ingests: { total: number; owned: number; resumable: number; removable: number; removed: number; strays: number };
}

const HEX64 = /^[a-f0-9]{64}$/;

function classify(err: FerryError, info: Stats | undefined): BlobProblem {
  if (!info) return 'missing';
  if (err instanceof IntegrityError && err.actual !== undefined) return err.code === ErrorCode.sizeMismatch ? 'size' : 'digest';
  return 'unreadable';
}

const sameFile = (a: Stats | undefined, b: Stats | undefined): boolean =>
  a === undefined ? b === undefined : b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Re-hashes every committed blob; reports each that is missing, short, long or wrong, with the file as it was hashed. */
async function hashAll(ctx: StoreContext, options: VerifyOptions): Promise<{ checked: number; bytes: number; bad: Map<Digest, { blob: CorruptBlob; seen: Stats | undefined }> }> {
  const rows = ctx.index.read(() => ctx.index.verify.blobs());
  options.onEvent?.({ type: 'phase', phase: 'verify', items: rows.length, total: rows.reduce((n, r) => n + r.size, 0) });
  const seen = new Map(rows.map((r) => [r.digest, statSync(ctx.layout.blobPath(r.digest), { throwIfNoEntry: false })]));
  const jobs: RangeJob[] = rows.map((r) => ({ expected: r, path: ctx.layout.blobPath(r.digest), start: 0, wholeFile: true, subject: `blob ${r.digest}` }));
  const bad = new Map<Digest, { blob: CorruptBlob; seen: Stats | undefined }>();
  const pool = new RangePool({ threads: options.threads ?? availableParallelism(), mainThread: true, ...(options.onEvent ? { onEvent: options.onEvent } : {}) });
  try {
    await pool.run(jobs, undefined, options.signal, {
      onBad: (job, err) => {
        const digest = job.expected.digest;
        const info = seen.get(digest);
        const actual = err instanceof IntegrityError ? err.actual : undefined;
        const blob: CorruptBlob = { digest, size: job.expected.size, problem: classify(err, info), ...(actual ? { actual } : {}), message: err.message, removed: false };
        bad.set(digest, { blob, seen: info });
      },
    });
  } finally {
    void pool.close();
  }
  // A GC or a commit may have changed a file while we read it: only what is still as we saw it counts.
  for (const [digest, b] of bad) {
    if (!ctx.index.blobs.get(digest) || !sameFile(b.seen, statSync(ctx.layout.blobPath(digest), { throwIfNoEntry: false }))) bad.delete(digest);
  }
  return { checked: rows.length, bytes: rows.reduce((n, r) => n + r.size, 0), bad };
}

function snapshot(ctx: StoreContext, bad: ReadonlySet<Digest>): GraphSnapshot {
  const q = ctx.index.verify;
  return {
    sound: new Set(q.blobs().map((b) => b.digest).filter((d) => !bad.has(d))),
    links: q.links(),
    manifestLinks: q.manifestLinks(),
    children: q.children(),
    tags: q.tags(),
  };
}

/** Files in blobs/ without an index row (a crash between rename and row): GC removes them, verify counts them. */
function orphanFiles(ctx: StoreContext): number {
  const known = ctx.index.blobs.digests();
  try {
    return readdirSync(ctx.layout.blobsDir).filter((n) => HEX64.test(n) && !known.has(`sha256:${n}`)).length;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0;
    throw err;
  }
}

export async function verifyStore(ctx: StoreContext, ingester: Ingester, options: VerifyOptions = {}): Promise<StoreVerifyReport> {
  const repair = options.repair ?? false;
  if (repair && ctx.readOnly) throw new UsageError('cannot repair a store opened read-only', { code: ErrorCode.usage });
  const index = ctx.index.read(() => ctx.index.verify.problems());
  const hashed = await hashAll(ctx, options);
  const corrupt = [...hashed.bad.values()].map((b) => b.blob);
  const report: StoreVerifyReport = {
    ok: false,
    repair,
    index,
    blobs: { checked: hashed.checked, bytes: hashed.bytes, corrupt, orphanFiles: orphanFiles(ctx) },
    tags: { checked: 0, incomplete: [], removed: [] },
    unlinked: [],
    ingests: { total: 0, owned: 0, resumable: 0, removable: 0, removed: 0, strays: 0 },
  };
  if (repair) await dropCorrupt(ctx, hashed.bad, report);
  const snap = ctx.index.read(() => snapshot(ctx, new Set(repair ? [] : hashed.bad.keys())));
  report.tags.checked = snap.tags.length;
  report.tags.incomplete = incompleteTags(snap, brokenManifests(snap));
  if (repair) report.unlinked = unlinkBroken(ctx);
  const listed = await ingester.list();
  const janitor = await cleanIngests(ctx, ingester, { dryRun: !repair || ctx.readOnly });
  const owned = listed.filter((s) => s.active).length;
  report.ingests = {
    total: listed.length,
    owned,
    resumable: listed.length - owned - janitor.removed.length,
    removable: janitor.removed.length,
    removed: repair ? janitor.removed.length : 0,
    strays: janitor.strays,
  };
  const left = corrupt.some((c) => !c.removed) || (!repair && report.tags.incomplete.length > 0);
  report.ok = index.length === 0 && !left;
  return report;
}

/**
 * Under the store's write lock: each corrupt blob still as it was hashed goes to
 * trash/ and its rows go (a manifest takes its tags with it: they are reported).
 * The files are unlinked after the lock, as GC does.
 */
async function dropCorrupt(ctx: StoreContext, bad: Map<Digest, { blob: CorruptBlob; seen: Stats | undefined }>, report: StoreVerifyReport): Promise<void> {
  const tag = `${process.pid}-${Date.now()}`;
  const moved: string[] = [];
  ctx.index.immediate(() => {
    const tags = ctx.index.verify.tags();
    for (const [digest, b] of bad) {
      const path = ctx.layout.blobPath(digest);
      if (!ctx.index.blobs.get(digest) || !sameFile(b.seen, statSync(path, { throwIfNoEntry: false }))) continue;
      if (b.seen) {
        const dest = join(ctx.layout.trashDir, `${digest.slice(7)}.${tag}`);
        renameSync(path, dest);
        moved.push(dest);
      }
      for (const t of tags.filter((x) => x.digest === digest)) report.tags.removed.push({ repository: t.repository, tag: t.tag, digest });
      ctx.index.blobs.delete(digest); // cascades to its manifest row, edges, links and tags
      b.blob.removed = true;
    }
  });
  await Promise.all(moved.map((file) => unlink(file).catch(() => undefined)));
}

/** Under the write lock: unlinks every manifest that lacks what it needs in its repository; the tags on them stay, reported. */
function unlinkBroken(ctx: StoreContext): Array<{ repository: string; digest: Digest }> {
  return ctx.index.immediate(() => {
    const snap = snapshot(ctx, new Set());
    const names = ctx.index.verify.repositoryNames();
    const out: Array<{ repository: string; digest: Digest }> = [];
    for (const [repoId, digests] of brokenManifests(snap)) {
      for (const digest of digests) {
        ctx.index.repos.unlink(repoId, digest);
        out.push({ repository: names.get(repoId) ?? String(repoId), digest });
      }
    }
    return out;
  });
}
