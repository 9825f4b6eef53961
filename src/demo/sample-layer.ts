import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { createDigester } from '../core/hashing.js';
import { MediaType } from '../core/media-types.js';
import type { SampleLayout } from './sample-layout.js';

// One real image layer: a tar (tar-stream) of a few files, gzip'd (zlib),
// streamed into the layout while two digests are taken — the tar's (the
// config's diff_id) and the gzip's (the layer digest). Fixed mtimes, owners,
// modes and entry order, and filler from AES-CTR under a key derived from a
// seed, make the same layer come out byte for byte the same on every run.

/** Every entry of every sample layer carries this mtime (and the configs this `created`). */
export const SAMPLE_MTIME = new Date(Date.UTC(2024, 0, 1));
const CHUNK = 64 * 1024;

export type LayerFile =
  | { path: string; mode?: number; text: string }
  /** `size` bytes of incompressible, reproducible filler, so the demo moves real megabytes. */
  | { path: string; mode?: number; filler: { seed: string; size: number } };

export interface SampleLayer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: Digest;
}

/** AES-128-CTR keystream under a key derived from `seed`: fast, and the same bytes everywhere. */
export function fillerStream(seed: string, size: number): Readable {
  const key = createHash('sha256').update(`ferry-demo:${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const zeros = Buffer.alloc(CHUNK);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, left);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

function parentDirs(files: readonly LayerFile[]): string[] {
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs];
}

async function addEntries(tar: Pack, files: readonly LayerFile[]): Promise<void> {
  const owner = { mtime: SAMPLE_MTIME, uid: 0, gid: 0, uname: 'root', gname: 'root' };
  // Parent directories first, as image builders write them.
  for (const dir of parentDirs(files)) tar.entry({ name: `${dir}/`, type: 'directory', mode: 0o755, ...owner });
  for (const file of files) {
    const mode = file.mode ?? 0o644;
    if ('text' in file) {
      const bytes = Buffer.from(file.text);
      await new Promise<void>((resolve, reject) => tar.entry({ name: file.path, size: bytes.length, mode, ...owner }, bytes, (err) => (err ? reject(err) : resolve())));
    } else {
      const entry = tar.entry({ name: file.path, size: file.filler.size, mode, ...owner });
      await pipeline(fillerStream(file.filler.seed, file.filler.size), entry);
    }
  }
  tar.finalize();
}

/** Writes a gzip'd tar layer of `files` into the layout. */
export async function writeSampleLayer(layout: SampleLayout, files: readonly LayerFile[]): Promise<SampleLayer> {
  const tar = tarPack();
  const tarDigest = createDigester();
  // Level and header are fixed (zlib writes mtime 0), so the compressed bytes repeat too.
  const writing = layout.putStream(MediaType.ociLayerGzip, Readable.from(tar, { objectMode: false }), [tarDigest, createGzip({ level: 6 })]);
  try {
    await addEntries(tar, files);
  } catch (err) {
    tar.destroy(err instanceof Error ? err : new Error(String(err)));
    await writing.catch(() => undefined);
    throw err;
  }
  const descriptor = await writing;
  return { descriptor, diffId: tarDigest.digest() };
}
