import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { verifyBytes, type Descriptor, type Digest, type MediaTypeName } from '../core/index.js';
import { fsyncDirSync, removeQuietly } from './durable-fs.js';
import type { StoreContext } from './store-context.js';

/** A verified, fsynced, read-only file in ingest/ that is ready to become a blob. */
export interface CommitPlan {
  partial: string;
  digest: Digest;
  size: number;
  mediaType: MediaTypeName | undefined;
  /** The ingest row to drop in the same transaction. */
  ingestRef?: string | undefined;
  /** Runs first under the lock, before anything moves: throw to refuse the commit (missing children). Synchronous. */
  check?: () => void;
  /** More index writes that must land atomically with the blob (manifest rows, a link). Synchronous. */
  inTransaction?: (() => void) | undefined;
}

/**
 * The visible half of a commit, under the store's write lock (BEGIN IMMEDIATE):
 * rename into blobs/ → fsync the directory → index row. Holding the lock is what
 * makes it safe against a concurrent GC sweep, which takes the same lock: either
 * the sweep ran first (and the rename recreates the blob) or the commit did (and
 * the fresh touched_at keeps the blob inside the grace window). If the blob is
 * already there, the partial is dropped and the blob touched.
 */
export function commitPartial(ctx: StoreContext, plan: CommitPlan): { existed: boolean } {
  return ctx.index.immediate(() => {
    plan.check?.();
    const now = ctx.clock();
    const target = ctx.layout.blobPath(plan.digest);
    const existed = ctx.index.blobs.get(plan.digest) !== undefined && existsSync(target);
    if (existed) {
      rmSync(plan.partial, { force: true });
    } else {
      // Replaces an orphan file left by a crash between rename and index row: same digest, same bytes.
      renameSync(plan.partial, target);
      fsyncDirSync(dirname(target));
    }
    ctx.index.blobs.upsert(plan.digest, plan.size, plan.mediaType, now);
    if (plan.ingestRef !== undefined) ctx.index.ingests.delete(plan.ingestRef);
    plan.inTransaction?.();
    return { existed };
  });
}

/**
 * Commits small bytes already in memory (a manifest read through a cap): verify →
 * temp file created 0444 → fsync → commitPartial.
 */
export async function commitBytes(
  ctx: StoreContext,
  bytes: Uint8Array,
  desc: Descriptor,
  subject: string,
  hooks: Pick<CommitPlan, 'check' | 'inTransaction'> = {},
): Promise<{ existed: boolean }> {
  verifyBytes(bytes, desc, subject);
  const partial = join(ctx.layout.ingestDir, `bytes-${process.pid}-${randomBytes(8).toString('hex')}.partial`);
  const fh = await open(partial, 'wx', 0o444);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    return commitPartial(ctx, { partial, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, ...hooks });
  } catch (err) {
    await removeQuietly(partial);
    throw err;
  }
}
