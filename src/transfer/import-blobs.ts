import { Readable } from 'node:stream';
import type { LimitFunction } from 'p-limit';
import type { PushOptions, Repository } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { DEFAULT_CONCURRENCY, MAX_MANIFEST_BYTES } from '../core/limits.js';
import { readCapped } from '../core/read-capped.js';
import type { Bundle } from '../bundle/index.js';
import { countingStream } from './counting-stream.js';
import { noEvents, type EventSink } from './events.js';

// Import's streaming pass (design §4 "Import streams"): one read of the stick,
// each layer pushed straight from its tar entry to the registry while the reader
// verifies it; no staging copy on disk. Manifests are kept in memory (each is
// capped at 4 MiB) for the graph pass that follows. What the target already has
// is found first, in parallel, so a rerun after a crash only drains those entries.
// Small blobs (configs, tiny layers) are read into memory, verified, and pushed
// in the background, a few at a time, while the reader moves on (design §4:
// "small blobs may be buffered to overlap round trips"): one push costs three
// round trips, and a bundle of many images is mostly small blobs by count.

/** Blobs up to this size are buffered and pushed concurrently; larger ones stream. */
export const SPOOL_BYTES = 1024 * 1024;

export interface BlobPassOptions {
  bundle: Bundle;
  /** blob digest → target repository keys that still need it. */
  missing: Map<string, string[]>;
  repository: (key: string) => Repository;
  onEvent?: EventSink;
  signal?: AbortSignal;
  /** Buffered small-blob pushes in flight at once (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Small blobs to hand back as bytes too (signature payloads the signature policy reads). */
  keep?: ReadonlySet<string>;
}

export interface BlobPassResult {
  manifests: Map<string, Buffer>;
  pushed: number;
  mounted: number;
  bytes: number;
  /** Blobs a repository still lacks because a mount was refused: a second pass pushes them. */
  pending: Map<string, string[]>;
  /** The bytes of the blobs named in `keep`. */
  kept?: Map<string, Buffer>;
}

/** Which (blob, repository) pairs the target lacks. Manifests are left to the graph pass. */
export async function findMissing(needs: Map<string, string[]>, blobs: Descriptor[], repository: (key: string) => Repository, limit: LimitFunction): Promise<Map<string, string[]>> {
  const missing = new Map<string, string[]>();
  await Promise.all(
    blobs.flatMap((desc) =>
      (needs.get(desc.digest) ?? []).map((key) =>
        limit(async () => {
          if (await repository(key).exists(desc)) return;
          const list = missing.get(desc.digest) ?? [];
          list.push(key);
          missing.set(desc.digest, list);
        }),
      ),
    ),
  );
  return missing;
}

function sameRegistry(a: string, b: string): boolean {
  return a.slice(0, a.indexOf('/')) === b.slice(0, b.indexOf('/'));
}

/**
 * Pushes one blob to the first repository that needs it and mounts it into the
 * others (or leaves them for a second pass), counting into `result`.
 */
export function blobPusher(
  options: BlobPassOptions,
  result: BlobPassResult,
): (desc: Descriptor, keys: [string, ...string[]], body: Readable, reopen?: PushOptions['reopen']) => Promise<void> {
  const emit = options.onEvent ?? noEvents;
  return async (desc, keys, body, reopen) => {
    const [first, ...others] = keys;
    const target = options.repository(first);
    emit({ type: 'node-start', descriptor: desc, repository: target.name });
    const counted = countingStream(body, desc, emit);
    try {
      // `absent`: findMissing just asked; one HEAD per blob less.
      await target.push(desc, counted.stream, { absent: true, ...(options.signal ? { signal: options.signal } : {}), ...(reopen ? { reopen } : {}) });
    } catch (err) {
      throw await options.bundle.explain(err);
    }
    result.pushed += 1;
    result.bytes += counted.moved();
    emit({ type: 'node-done', descriptor: desc, repository: target.name, action: 'copied', bytes: counted.moved() });
    for (const key of others) {
      const repo = options.repository(key);
      // A mount links without moving bytes, but only within one registry.
      if (sameRegistry(first, key) && repo.mount && (await repo.mount(desc, target.name))) {
        result.mounted += 1;
        emit({ type: 'node-done', descriptor: desc, repository: repo.name, action: 'mounted', bytes: 0 });
      } else {
        result.pending.set(desc.digest, [...(result.pending.get(desc.digest) ?? []), key]);
      }
    }
  };
}

export async function pushBlobsFromBundle(options: BlobPassOptions): Promise<BlobPassResult> {
  const result: BlobPassResult = { manifests: new Map(), pushed: 0, mounted: 0, bytes: 0, pending: new Map() };
  const spooled = new Set<Promise<void>>();
  const width = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  let failure: { error: unknown } | undefined;

  const pushOne = blobPusher(options, result);
  const settle = async (): Promise<void> => {
    await Promise.all(spooled);
    if (failure) throw failure.error;
  };

  try {
    for await (const blob of options.bundle.blobs()) {
      options.signal?.throwIfAborted();
      if (failure) throw failure.error;
      const desc = blob.descriptor;
      if (blob.kind === 'manifest') {
        result.manifests.set(desc.digest, await readCapped(blob.stream, MAX_MANIFEST_BYTES, blob.entry));
        continue;
      }
      const keys = options.missing.get(desc.digest);
      if (options.keep?.has(desc.digest)) {
        const bytes = await readCapped(blob.stream, MAX_MANIFEST_BYTES, blob.entry).catch(async (err: unknown) => {
          throw await options.bundle.explain(err);
        });
        (result.kept ??= new Map()).set(desc.digest, bytes);
        if (keys?.length) await pushOne(desc, keys as [string, ...string[]], Readable.from([bytes]));
        continue;
      }
      if (!keys?.length) continue; // the reader drains and still verifies it
      const targets = keys as [string, ...string[]];
      if (desc.size > SPOOL_BYTES) {
        await pushOne(desc, targets, blob.stream);
        continue;
      }
      // Read (and so verified by the reader) before a byte is sent; bounded: at most `width` held.
      const bytes = await readCapped(blob.stream, SPOOL_BYTES, blob.entry).catch(async (err: unknown) => {
        throw await options.bundle.explain(err);
      });
      while (spooled.size >= width) await Promise.race(spooled);
      const push: Promise<void> = pushOne(desc, targets, Readable.from([bytes])).then(
        () => void spooled.delete(push),
        (error: unknown) => {
          spooled.delete(push);
          failure ??= { error };
        },
      );
      spooled.add(push);
    }
  } catch (err) {
    // Let pushes in flight finish (or fail) before reporting: nothing may outlive the pass.
    await Promise.all(spooled);
    throw err;
  }
  await settle();
  return result;
}
