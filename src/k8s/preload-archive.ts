import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import { buildIndexJson, type BundleBlob } from '../bundle/index.js';
import type { Digest } from '../core/digest.js';
import { HoldLastChunk } from './hold-last-chunk.js';
import type { PreloadImage } from './preload-plan.js';

// The tar stream `ctr images import -` reads: a plain OCI image layout
// (oci-layout, index.json, blobs/sha256/*) holding only the selected images
// and blobs, straight from the bundle's verified blob stream. ferry/* entries
// stay behind (ctr would store them as stray content). The tar is finished
// only after the bundle reader has checked every blob, so a bad bundle leaves
// ctr with a truncated archive and no images.

const MTIME = new Date(0);


class CountBytes extends Transform {
  private readonly onBytes: (n: number) => void;

  constructor(onBytes: (n: number) => void) {
    super();
    this.onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onBytes(chunk.length);
    callback(null, chunk);
  }
}

function header(name: string, size: number) {
  return { name, size, mode: 0o644, mtime: MTIME, uid: 0, gid: 0, type: 'file' as const };
}

async function entry(pack: Pack, name: string, body: Readable, size: number, through: Transform[] = []): Promise<void> {
  await pipeline([body, ...through, pack.entry(header(name, size))]);
}

export interface ArchiveProgress {
  onBlob?: (blob: BundleBlob) => void;
  onBytes?: (blob: BundleBlob, n: number) => void;
}

/** Writes the whole archive into `pack` (finalized only on success). */
export async function writePreloadArchive(
  pack: Pack,
  images: readonly PreloadImage[],
  blobs: AsyncIterable<BundleBlob>,
  wanted: ReadonlySet<Digest>,
  progress: ArchiveProgress = {},
): Promise<{ blobs: number; bytes: number }> {
  const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  await entry(pack, 'oci-layout', Readable.from([layout]), layout.length);
  const index = buildIndexJson(images);
  await entry(pack, 'index.json', Readable.from([index]), index.length);
  let count = 0;
  let bytes = 0;
  for await (const blob of blobs) {
    if (!wanted.has(blob.descriptor.digest)) continue;
    progress.onBlob?.(blob);
    const counter = new CountBytes((n) => progress.onBytes?.(blob, n));
    await entry(pack, blob.entry, blob.stream, blob.descriptor.size, [new HoldLastChunk(), counter]);
    count += 1;
    bytes += blob.descriptor.size;
  }
  pack.finalize();
  return { blobs: count, bytes };
}
