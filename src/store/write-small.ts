import { addAbortSignal, type Readable } from 'node:stream';
import { SMALL_BLOB_BYTES, verifyBytes, type Descriptor, type EventSink } from '../core/index.js';
import { commitBytes } from './commit.js';
import type { StoreContext } from './store-context.js';

// A small blob in one step: read whole (at most SMALL_BLOB_BYTES), verify, then
// temp file → fdatasync → the group's rename and directory fsync → index row
// (commitBytes, as for manifests). No ingest row, sidecar or partial to resume:
// a kill costs a refetch of a few KiB, and the blob does not hold its transfer
// slot across a dozen file operations queued behind big layers' writes.

/** Is `desc` small enough to be written whole, and is no resumable ingest of it left from an earlier run? */
export function writesWhole(ctx: StoreContext, desc: Descriptor, ref: string): boolean {
  return desc.size <= SMALL_BLOB_BYTES && ctx.index.ingests.get(ref) === undefined;
}

export interface WriteSmallOptions {
  inTransaction?: (() => void) | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: EventSink | undefined;
}

/** Reads `body` (refusing it as soon as it grows past the descriptor's size), verifies and commits it. */
export async function writeSmall(ctx: StoreContext, desc: Descriptor, body: Readable, options: WriteSmallOptions): Promise<{ written: number; existed: boolean }> {
  if (options.signal) addAbortSignal(options.signal, body);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    total += buf.length;
    if (total > desc.size) {
      body.destroy();
      break; // verifyBytes below says "size mismatch: … got more than N"
    }
  }
  const bytes = Buffer.concat(chunks, total);
  verifyBytes(bytes, desc, desc.digest);
  options.onEvent?.({ type: 'bytes', descriptor: desc, bytes: bytes.length });
  const { existed } = await commitBytes(ctx, bytes, desc, desc.digest, { inTransaction: options.inTransaction });
  return { written: bytes.length, existed };
}
