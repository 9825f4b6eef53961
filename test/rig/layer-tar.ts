import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { digestOf, type Digest } from '../../src/core/digest.js';

// Real gzip'd tar layers, byte-for-byte reproducible: fixed mtimes, uid/gid 0,
// fixed entry order, and Node's bundled zlib (gzip header mtime 0). The same
// files give the same digest on every run, so tests may pin digests.

export interface LayerFile {
  readonly path: string;
  readonly content: string | Uint8Array;
  readonly mode?: number;
}

export interface BuiltLayer {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly size: number;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  readonly diffId: Digest;
}

/** 2024-01-01T00:00:00Z: every entry of every rig layer carries this mtime. */
export const FIXED_MTIME = new Date(Date.UTC(2024, 0, 1));

export async function buildLayer(files: readonly LayerFile[]): Promise<BuiltLayer> {
  const tar = pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  })();
  const dirs = new Set<string>();
  for (const file of files) {
    // Parent directories first, as real image builders write them.
    const parts = file.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      tar.entry({ name: `${dir}/`, type: 'directory', mode: 0o755, mtime: FIXED_MTIME, uid: 0, gid: 0 });
    }
    const content = typeof file.content === 'string' ? Buffer.from(file.content) : Buffer.from(file.content);
    tar.entry({ name: file.path, mode: file.mode ?? 0o644, mtime: FIXED_MTIME, uid: 0, gid: 0 }, content);
  }
  tar.finalize();
  const uncompressed = await collected;
  const bytes = gzipSync(uncompressed, { level: 6 });
  return { bytes, digest: digestOf(bytes), size: bytes.length, diffId: digestOf(uncompressed) };
}

/** Incompressible but reproducible filler (sha256 in counter mode), so layers have real size. */
export function pseudoRandomBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, counter = 0; offset < size; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}
