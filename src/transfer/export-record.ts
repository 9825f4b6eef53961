import { resolve } from 'node:path';
import type { Descriptor } from '../core/descriptor.js';
import type { BundleImageInput, ToolInput, VolumeInfo } from '../bundle/index.js';
import type { TransferRecords } from '../store/index.js';

// What the store remembers of each bundle it wrote: exactly the writer's
// inputs (images with their pinned root and referrer descriptors, delta
// assumptions, creation time, tool version, signer) and the volume list. The
// writer is deterministic, so these re-make any volume byte for byte from the
// store alone, with no registry (`ferry export … --only-volume N`). Kept in the
// `info` column of the store's bundles table.

export interface WriterRecord {
  /** The -o given, resolved: volumes are found beside it. */
  out: string;
  split: number | null;
  /** bundle.json `created`. */
  created: string;
  toolVersion: string;
  keyId: string | null;
  images: BundleImageInput[];
  assumes: Descriptor[];
  /** The releases carried, with the file each was read from (absent in records older than --with-ferry). */
  tools?: ToolInput[];
  volumes: VolumeInfo[] | null;
}

const KEY = 'writer';

export function recordWritten(store: Pick<TransferRecords, 'recordBundle'>, bundle: { id: string; path: string; blobCount: number; bytes: number }, record: WriterRecord): void {
  store.recordBundle({ ...bundle, direction: 'written', info: { [KEY]: record } });
}

function isWriterRecord(value: unknown): value is WriterRecord {
  const r = value as Partial<WriterRecord> | null;
  return (
    typeof r === 'object' && r !== null &&
    typeof r.out === 'string' && typeof r.created === 'string' && typeof r.toolVersion === 'string' &&
    Array.isArray(r.images) && Array.isArray(r.assumes) && (r.split === null || typeof r.split === 'number')
  );
}

/**
 * The record of the bundle `id` when given (from its volume list), else the
 * newest one written to `out` with this split; undefined when the store has none.
 */
export function findWritten(store: Pick<TransferRecords, 'bundles'>, want: { id?: string; out: string; split: number }): (WriterRecord & { id: string }) | undefined {
  const out = resolve(want.out);
  const found = store
    .bundles()
    .filter((b) => b.direction === 'written')
    .flatMap((b) => (isWriterRecord(b.info?.[KEY]) ? [{ ...(b.info[KEY] as WriterRecord), id: b.id, at: b.at }] : []))
    .filter((r) => (want.id !== undefined ? r.id === want.id : r.out === out && r.split === want.split))
    .sort((a, b) => b.at - a.at)[0];
  if (!found) return undefined;
  const { at: _at, ...record } = found;
  return record;
}
