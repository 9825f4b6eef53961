import type { Pack } from 'tar-stream';
import { buildIndexJson, entryHeader, OCI_LAYOUT_BYTES, writeEntry, type BundleBlob } from '../bundle/index.js';
import type { Digest } from '../core/digest.js';
import { ByteTap } from '../core/byte-tap.js';
import { noEvents, type EventSink } from '../core/progress-events.js';
import { HoldLastChunk } from './hold-last-chunk.js';
import type { PreloadImage } from './preload-plan.js';

// The tar stream `ctr images import -` reads: a plain OCI image layout
// (oci-layout, index.json, blobs/sha256/*) holding only the selected images
// and blobs, straight from the bundle's verified blob stream. ferry/* entries
// stay behind (ctr would store them as stray content). The tar is finished
// only after the bundle reader has checked every blob, so a bad bundle leaves
// ctr with a truncated archive and no images.

const MTIME = new Date(0);

/** Writes the whole archive into `pack` (finalized only on success). */
export async function writePreloadArchive(
  pack: Pack,
  images: readonly PreloadImage[],
  blobs: AsyncIterable<BundleBlob>,
  wanted: ReadonlySet<Digest>,
  onEvent: EventSink = noEvents,
): Promise<{ blobs: number; bytes: number }> {
  await writeEntry(pack, entryHeader('oci-layout', OCI_LAYOUT_BYTES.length, MTIME), OCI_LAYOUT_BYTES);
  const index = buildIndexJson(images);
  await writeEntry(pack, entryHeader('index.json', index.length, MTIME), index);
  let count = 0;
  let bytes = 0;
  for await (const blob of blobs) {
    if (!wanted.has(blob.descriptor.digest)) continue;
    // Into the one progress channel: each blob as it starts, its bytes as they go to ctr.
    onEvent({ type: 'node-start', descriptor: blob.descriptor, repository: 'containerd' });
    const counter = new ByteTap((n) => onEvent({ type: 'bytes', descriptor: blob.descriptor, bytes: n }));
    await writeEntry(pack, entryHeader(blob.entry, blob.descriptor.size, MTIME), blob.stream, [new HoldLastChunk(), counter]);
    count += 1;
    bytes += blob.descriptor.size;
  }
  pack.finalize();
  return { blobs: count, bytes };
}
