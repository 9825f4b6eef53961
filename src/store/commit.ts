import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyBytes, type Descriptor, type Digest, type MediaTypeName } from '../core/index.js';
import { commitGroupOf, type Announcement } from './commit-group.js';
import { removeQuietly } from './durable-fs.js';
import type { StoreContext } from './store-context.js';

/** A verified, fdatasynced, read-only file in ingest/ that is ready to become a blob. */
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
 * rename into blobs/ → fsync the directory → index row, shared with the blobs
 * that commit at the same moment (commit-group.ts). Holding the lock is what
 * makes it safe against a concurrent GC sweep, which takes the same lock: either
 * the sweep ran first (and the rename recreates the blob) or the commit did (and
 * the fresh touched_at keeps the blob inside the grace window). If the blob is
 * already there, the partial is dropped and the blob touched. `announced` is the
 * caller's place in the group, taken before its fdatasync.
 */
export function commitPartial(ctx: StoreContext, plan: CommitPlan, announced?: Announcement): Promise<{ existed: boolean }> {
  return commitGroupOf(ctx).commit(plan, announced);
}

/**
 * Commits small bytes already in memory (a manifest read through a cap): verify →
 * temp file created 0444 → fdatasync → commitPartial.
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
  const announced = commitGroupOf(ctx).announce(bytes.length);
  try {
    const fh = await open(partial, 'wx', 0o444);
    try {
      await fh.writeFile(bytes);
      await fh.datasync(); // the size is part of what fdatasync makes durable
    } finally {
      await fh.close();
    }
    return await commitPartial(ctx, { partial, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, ...hooks }, announced);
  } catch (err) {
    await removeQuietly(partial);
    throw err;
  } finally {
    announced.cancel(); // a no-op once committed
  }
}
