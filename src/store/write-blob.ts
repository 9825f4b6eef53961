import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, IntegrityError, UsageError, isFerryError, type Descriptor, type EventSink } from '../core/index.js';
import { isDiskFull } from '../core/disk-full.js';
import type { Ingester, IngestStatus } from './ingester.js';
import type { CommitResult, IngestWriter } from './ingest-writer.js';
import type { StoreContext } from './store-context.js';
import { writeSmall, writesWhole } from './write-small.js';

/** The bytes of a blob: a stream from byte 0, or a function that opens the source at an offset (HTTP Range). */
export type BlobSource = Readable | ((offset: number) => Promise<Readable>);

export interface WriteBlobOptions {
  /** Ingest ref; default the digest, so a rerun after a crash finds the partial. */
  ref?: string;
  /** Read and verify the bytes even when the store already has the blob (proof of possession before linking). */
  verifyExisting?: boolean;
  /** Index writes to land with the blob, in its commit transaction (a link). Synchronous. */
  inTransaction?: () => void;
  /** How long to wait for another writer of the same ref; default 10 minutes. */
  waitMs?: number;
  signal?: AbortSignal | undefined;
  /** The one progress channel: bytes written into the store, as `bytes` events of the blob. */
  onEvent?: EventSink;
}

export interface WriteResult {
  /** Bytes written by this call. */
  written: number;
  /** Bytes a previous, interrupted write had left (0 for a fresh write). */
  resumedFrom: number;
  /** The store already had the blob. */
  existed: boolean;
}

/** Drops the first `n` bytes: resuming from a source that can only start at 0 (containerd's discard fallback). */
export function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (left >= chunk.length) {
        left -= chunk.length;
        callback();
        return;
      }
      const rest = left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
      callback(null, rest);
    },
  });
}

/** When the blob is already committed: touch it and run the caller's index writes; false if it vanished meanwhile. */
function reuseExisting(ctx: StoreContext, desc: Descriptor, inTransaction: (() => void) | undefined): boolean {
  return ctx.index.immediate(() => {
    if (!ctx.index.blobs.get(desc.digest)) return false;
    ctx.index.blobs.touch(desc.digest, ctx.clock());
    inTransaction?.();
    return true;
  });
}

/**
 * A partial that already holds all `size` bytes (a kill or Ctrl-C between the last
 * byte and the commit) is committed without reading the source, as containerd's
 * Fetch commits a writer whose offset is the size. Undefined when it was not
 * complete (the writer stays open) or its bytes were wrong (the writer dropped them).
 */
async function commitComplete(writer: IngestWriter, desc: Descriptor, inTransaction: (() => void) | undefined): Promise<CommitResult | undefined> {
  if (writer.offset === 0 || writer.offset !== desc.size) return undefined;
  try {
    return await writer.commit({}, { inTransaction });
  } catch (err) {
    if (err instanceof IntegrityError) return undefined;
    throw err;
  }
}

/**
 * Settles the ingest `ref` of `desc` when it holds the whole blob: commits it (true)
 * or, when its bytes are wrong, drops it (false). Undefined when there is nothing
 * to settle: no partial, a shorter one, or one another writer holds.
 */
export async function settleComplete(
  ctx: StoreContext,
  ingester: Ingester,
  desc: Descriptor,
  options: Pick<WriteBlobOptions, 'ref' | 'inTransaction'> = {},
  known?: IngestStatus | undefined,
): Promise<boolean | undefined> {
  const ref = options.ref ?? desc.digest;
  const status = known ?? (await ingester.status(ref));
  if (!status || status.active || status.offset !== desc.size || desc.size === 0) return undefined;
  let writer: IngestWriter;
  try {
    writer = await ingester.open(ref, { expected: { digest: desc.digest, size: desc.size, mediaType: desc.mediaType } });
  } catch (err) {
    if (isFerryError(err) && err.code === ErrorCode.storeLocked) return undefined; // someone else got there first
    throw err;
  }
  if (reuseExisting(ctx, desc, options.inTransaction)) {
    await writer.abort();
    return true;
  }
  const done = await commitComplete(writer, desc, options.inTransaction);
  if (!done) await writer.close(); // a no-op after a mismatch (dropped); keeps a partial that was not complete
  return done !== undefined;
}

/**
 * Bytes already held for an interrupted write of `desc` under `ref`: fetch the rest
 * with HTTP Range. A whole blob is settled first. One look at the ingest (its
 * sidecar), not two: an export asks this of every blob it plans and fetches.
 */
export async function resumeOffsetOf(ctx: StoreContext, ingester: Ingester, desc: Descriptor, options: Pick<WriteBlobOptions, 'ref' | 'inTransaction'> = {}): Promise<number> {
  const ref = options.ref ?? desc.digest;
  // No index row, no partial: an ingest is claimed (its row written) before its sidecar and first byte,
  // and its row is deleted only after its files. Most blobs of an export have none: no sidecar read.
  if (ctx.index.ingests.get(ref) === undefined) return 0;
  const status = await ingester.status(ref);
  if (!status) return 0;
  const settled = await settleComplete(ctx, ingester, desc, options, status);
  if (settled !== undefined) return settled ? desc.size : 0;
  return status.offset;
}

/**
 * Ingest + commit in one call (containerd content.WriteBlob): resumes a partial
 * left by an interrupted run, verifies size and digest, and commits nothing on a
 * mismatch. An existing blob is not read again unless `verifyExisting`. A blob
 * up to SMALL_BLOB_BYTES with no ingest left for it is written whole (write-small.ts).
 */
export async function writeBlob(
  ctx: StoreContext,
  ingester: Ingester,
  desc: Descriptor,
  source: BlobSource,
  options: WriteBlobOptions = {},
): Promise<WriteResult> {
  const skipped = (resumedFrom = 0, existed = true): WriteResult => {
    if (typeof source !== 'function') source.destroy();
    return { written: 0, resumedFrom, existed };
  };
  if (!options.verifyExisting && reuseExisting(ctx, desc, options.inTransaction)) return skipped();
  const ref = options.ref ?? desc.digest;
  if (writesWhole(ctx, desc, ref)) {
    const body = typeof source === 'function' ? await source(0) : source;
    try {
      const { written, existed } = await writeSmall(ctx, desc, body, options);
      return { written, resumedFrom: 0, existed };
    } catch (err) {
      if (!body.destroyed) body.destroy();
      throw storeError(ctx, err);
    }
  }
  const expected = { digest: desc.digest, size: desc.size, mediaType: desc.mediaType };
  const open = () => ingester.open(ref, { expected, waitMs: options.waitMs ?? 600_000 });
  let writer = await open();
  try {
    // Another writer may have committed it while we waited for the ref.
    if (!options.verifyExisting && reuseExisting(ctx, desc, options.inTransaction)) {
      await writer.abort();
      return skipped();
    }
    if (writer.offset > 0 && writer.offset === desc.size) {
      const done = await commitComplete(writer, desc, options.inTransaction);
      if (done) return skipped(desc.size, done.existed);
      writer = await open(); // the whole blob was there but wrong, and is gone: start from 0
    }
    const resumedFrom = writer.offset;
    const body = typeof source === 'function' ? await source(resumedFrom) : source;
    const steps: Array<Readable | Transform> = [body];
    if (typeof source !== 'function' && resumedFrom > 0) steps.push(skipBytes(resumedFrom));
    await pipeline([...steps, writer.stream(options.onEvent ? { progress: { descriptor: desc, onEvent: options.onEvent } } : {})], { signal: options.signal });
    const written = writer.size - resumedFrom;
    const { existed } = await writer.commit({}, { inTransaction: options.inTransaction });
    return { written, resumedFrom, existed };
  } catch (err) {
    if (typeof source !== 'function' && !source.destroyed) source.destroy();
    // Bad bytes are dropped; an interrupted transfer keeps its partial for the next attempt.
    if (err instanceof IntegrityError) await writer.abort();
    else await writer.close();
    throw storeError(ctx, err);
  }
}

/** A full disk is the user's to fix: say which store, and what frees space. */
function storeError(ctx: StoreContext, err: unknown): unknown {
  if (!isDiskFull(err)) return err;
  return new UsageError(`no space left on the device holding the store ${ctx.layout.root}`, {
    cause: err,
    hint: 'free space (ferry store prune --untagged, then ferry store gc), or use --store on a larger disk; rerun to resume',
  });
}
