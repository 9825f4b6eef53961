import { pipeline, type Readable } from 'node:stream';
import { NotFoundError, isManifest, parseManifest, readCapped, successors, verifyStream, type Descriptor } from '../../src/core/index.js';
import type { RemoteRepository } from '../../src/registry/client/index.js';

// A test-only graph copy: walk a root with core parseManifest/successors, copy
// children before parents, tag last. The real engine (copyGraph) lives in
// src/transfer; this one exists so client tests can move whole images. It plays
// the owner's part in the retry design: a failed blob push is retried whole,
// with a fresh source stream.

export interface CopyImageOptions {
  /** Fetch a blob the source registry does not serve (foreign layers: their `urls`). */
  fetchForeign?: (desc: Descriptor) => Promise<Readable>;
  /** Whole-node retries (the owner's level). Default 0. */
  retries?: number;
  tags?: readonly string[];
}

export interface CopyStats {
  manifests: number;
  blobs: number;
  skipped: number;
}

/** `stream` through verifyStream, with source errors carried to the result (pipe() would drop them). */
export function verified(stream: Readable, desc: Descriptor): Readable {
  const verify = verifyStream(desc, desc.digest);
  pipeline(stream, verify, () => undefined);
  return verify;
}

async function openSource(src: RemoteRepository, desc: Descriptor, opts: CopyImageOptions): Promise<Readable> {
  try {
    return await src.fetch(desc);
  } catch (e) {
    if (e instanceof NotFoundError && desc.urls && opts.fetchForeign) return opts.fetchForeign(desc);
    throw e;
  }
}

export async function copyImage(src: RemoteRepository, dst: RemoteRepository, root: Descriptor, opts: CopyImageOptions = {}): Promise<CopyStats> {
  const stats: CopyStats = { manifests: 0, blobs: 0, skipped: 0 };
  const done = new Set<string>();
  const withRetries = async (what: () => Promise<void>): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await what();
      } catch (e) {
        if (attempt >= (opts.retries ?? 0)) throw e;
      }
    }
  };
  const visit = async (desc: Descriptor): Promise<void> => {
    if (done.has(desc.digest)) return;
    done.add(desc.digest);
    if (isManifest(desc.mediaType)) {
      const { bytes } = await src.fetchManifest(desc.digest);
      const manifest = parseManifest(bytes, desc.mediaType, `${src.name}@${desc.digest}`);
      for (const child of successors(manifest)) await visit(child);
      if (await dst.exists(desc)) {
        stats.skipped++;
        return;
      }
      await withRetries(async () => {
        const body = await src.fetch(desc);
        await dst.push(desc, body);
      });
      stats.manifests++;
      return;
    }
    if (await dst.exists(desc)) {
      stats.skipped++;
      return;
    }
    await withRetries(async () => {
      const body = verified(await openSource(src, desc, opts), desc);
      await dst.push(desc, body);
    });
    stats.blobs++;
  };
  await visit(root);
  for (const tag of opts.tags ?? []) await withRetries(() => dst.tag(tag, root));
  return stats;
}

/** Every node of `root` in `repo`, each fetched and checked against its digest; returns how many. */
export async function assertGraphIn(repo: RemoteRepository, root: Descriptor): Promise<{ manifests: Map<string, Buffer>; blobs: number }> {
  const manifests = new Map<string, Buffer>();
  let blobs = 0;
  const seen = new Set<string>();
  const walk = async (desc: Descriptor): Promise<void> => {
    if (seen.has(desc.digest)) return;
    seen.add(desc.digest);
    const stream = verified(await repo.fetch(desc), desc);
    if (isManifest(desc.mediaType)) {
      const bytes = await readCapped(stream, 4 * 1024 * 1024, desc.digest);
      manifests.set(desc.digest, bytes);
      for (const child of successors(parseManifest(bytes, desc.mediaType, desc.digest))) await walk(child);
      return;
    }
    for await (const _ of stream) {
      // verifyStream throws at the end on a mismatch
    }
    blobs++;
  };
  await walk(root);
  return { manifests, blobs };
}
