import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { PushOptions, Repository } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { DEFAULT_CONCURRENCY, MAX_MANIFEST_BYTES } from '../core/limits.js';
import { readCapped } from '../core/read-capped.js';
import type { Bundle } from '../bundle/index.js';
import { countingStream } from './counting-stream.js';
import { noEvents, type EventSink } from './events.js';
import { METADATA_LANES } from './import-lanes.js';
import { splitRepositoryKey } from './import-plan.js';
import { inLanes } from './lanes.js';
import { teeStream } from './tee-stream.js';

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
  /** Registries that refused a mount: shared by the passes of one import, so none asks again. */
  mountRefused?: Set<string>;
  /** Small blobs to hand back as bytes too (signature payloads the signature policy reads). */
  keep?: ReadonlySet<string>;
  /** The phase total counts every byte of this pass already (the pass for refused mounts: counted when refused). */
  counted?: boolean;
}

export interface BlobPassResult {
  manifests: Map<string, Buffer>;
  pushed: number;
  mounted: number;
  bytes: number;
  /** Blobs a repository still lacks because a mount was refused: a second pass pushes them. */
  pending: Map<string, string[]>;
  /** `repositoryKey\0digest` of every blob the target took (pushed or mounted) in this pass. */
  landed: Set<string>;
  /** The bytes of the blobs named in `keep`. */
  kept?: Map<string, Buffer>;
}

export function emptyPassResult(): BlobPassResult {
  return { manifests: new Map(), pushed: 0, mounted: 0, bytes: 0, pending: new Map(), landed: new Set() };
}

export const landedKey = (key: string, digest: string): string => `${key}\0${digest}`;

/**
 * Which (blob, repository) pairs the target lacks. Manifests are left to the graph pass. A repository
 * in `absent` (the registry does not have it: import-unlisted.ts) lacks every blob, without a HEAD.
 */
export async function findMissing(needs: Map<string, string[]>, blobs: Descriptor[], repository: (key: string) => Repository, absent: ReadonlySet<string> = new Set(), lanes = METADATA_LANES): Promise<Map<string, string[]>> {
  const missing = new Map<string, string[]>();
  const lacks = (desc: Descriptor, key: string): void => {
    const list = missing.get(desc.digest) ?? [];
    list.push(key);
    missing.set(desc.digest, list);
  };
  function* pairs(): Generator<[Descriptor, string]> {
    for (const desc of blobs) {
      for (const key of needs.get(desc.digest) ?? []) {
        if (absent.has(key)) lacks(desc, key);
        else yield [desc, key];
      }
    }
  }
  // `lanes` HEADs at a time: no promise per (blob, repository) pair up front.
  await inLanes(pairs(), lanes, async ([desc, key]) => {
    if (!(await repository(key).exists(desc))) lacks(desc, key);
  });
  return missing;
}

const registryOf = (key: string): string => splitRepositoryKey(key)[0];

/**
 * The bytes the push phase plans to send for `missing`: each blob once per
 * registry (the other repositories there mount it). A refused mount adds its
 * blob later (`phase-grows`), so progress never passes the total.
 */
export function plannedBytes(missing: ReadonlyMap<string, readonly string[]>, blobs: readonly Descriptor[]): number {
  let total = 0;
  for (const desc of blobs) {
    const keys = missing.get(desc.digest);
    if (keys) total += desc.size * new Set(keys.map(registryOf)).size;
  }
  return total;
}

/** A blob's bytes for the pusher: the stream, and when the source can give them again, how. */
export interface BlobBody {
  stream: Readable;
  /** The same bytes again from the start (a file range, a buffer): another repository gets them without a second pass. */
  again?: () => Readable;
  /** Raw bytes from an offset, to resume a large push (see PushOptions.reopen). */
  reopen?: PushOptions['reopen'];
}

/**
 * Which repositories get the bytes and which may mount them: in each registry
 * the first repository gets them and the others mount from it, unless that
 * registry has refused a mount already (then every one gets the bytes).
 */
function routes(keys: readonly string[], mountRefused: ReadonlySet<string>): { direct: string[]; mounts: Array<[key: string, from: string]> } {
  const direct: string[] = [];
  const mounts: Array<[string, string]> = [];
  const first = new Map<string, string>();
  for (const key of keys) {
    const registry = registryOf(key);
    const from = first.get(registry);
    if (from === undefined) first.set(registry, key);
    if (from === undefined || mountRefused.has(registry)) direct.push(key);
    else mounts.push([key, from]);
  }
  return { direct, mounts };
}

/** Pushes one blob; `settle` once the pass has pushed its last (see blobPusher). */
export interface BlobPusher {
  (desc: Descriptor, keys: readonly string[], body: BlobBody): Promise<void>;
  /** Every mount settled and every refused one sent after all (or left pending); the first failure is thrown. */
  settle(): Promise<void>;
  /** Waits for the mounts still in flight, failed or not: none outlives a pass that failed. */
  idle(): Promise<void>;
}

/**
 * Pushes one blob to the repositories that need it — bytes to one per
 * registry, a mount for the others — counting into `result`. The mounts go
 * on without the caller: a lane that has sent a blob's bytes takes its next
 * upload while the registry links them (the bench's base layer held its lane
 * for seven mount round trips before; the bytes of the next blob waited on
 * them). A refused mount (the registry answered 202) marks the registry in
 * `options.mountRefused`: the repository gets the bytes instead, in
 * `settle()` when the source can give them again (`concurrency` at a time, the
 * pass's bound), else in the next pass (`result.pending`). A failed mount
 * fails the next push, `settle()`, and calls `onFailure` (the pass stops
 * starting uploads). Only what the target took is counted as landed.
 */
export function blobPusher(options: BlobPassOptions, result: BlobPassResult, onFailure: (error: unknown) => void = () => undefined): BlobPusher {
  const emit = options.onEvent ?? noEvents;
  const mountRefused = options.mountRefused ?? new Set<string>();
  const signal = options.signal ? { signal: options.signal } : {};

  const pushTo = async (desc: Descriptor, key: string, stream: Readable, reopen: BlobBody['reopen']): Promise<void> => {
    const target = options.repository(key);
    emit({ type: 'node-start', descriptor: desc, repository: target.name });
    // Lazy: a bundle range is read when the upload sends it, not while the POST is out.
    const counted = countingStream(stream, desc, emit, { lazy: true });
    try {
      // `absent`: findMissing just asked; one HEAD per blob less.
      await target.push(desc, counted.stream, { absent: true, ...signal, ...(reopen ? { reopen } : {}) });
    } catch (err) {
      throw await options.bundle.explain(err);
    }
    result.pushed += 1;
    result.bytes += counted.moved();
    result.landed.add(landedKey(key, desc.digest));
    emit({ type: 'node-done', descriptor: desc, repository: target.name, action: 'copied', bytes: counted.moved() });
  };

  const pushAll = async (desc: Descriptor, keys: readonly string[], body: BlobBody): Promise<void> => {
    const [first, ...rest] = keys;
    if (first === undefined) return;
    if (rest.length === 0 || body.again) {
      await pushTo(desc, first, body.stream, body.reopen);
      for (const key of rest) await pushTo(desc, key, (body.again as () => Readable)(), body.reopen);
      return;
    }
    // One read of the stick for all of them.
    const copies = teeStream(body.stream, keys.length);
    let failure: { error: unknown } | undefined;
    await Promise.all(keys.map((key, i) => pushTo(desc, key, copies[i] as Readable, undefined).catch((error: unknown) => void (failure ??= { error }))));
    if (failure) throw failure.error;
  };

  // Bytes beyond the plan's one upload per registry: the phase's total grows by them first.
  const grow = (bytes: number): void => {
    if (!options.counted && bytes > 0) emit({ type: 'phase-grows', bytes });
  };

  // A blob's mounts go out together, not one round trip after another (a base layer of 8 images held its lane
  // for 7 of them); METADATA_LANES at once over the whole pass, as findMissing's HEADs.
  const mountLanes = pLimit(METADATA_LANES);
  const mount = async (desc: Descriptor, key: string, from: string): Promise<boolean> => {
    const repo = options.repository(key);
    if (!repo.mount || !(await repo.mount(desc, options.repository(from).name, signal))) return false;
    result.mounted += 1;
    result.landed.add(landedKey(key, desc.digest));
    emit({ type: 'node-done', descriptor: desc, repository: repo.name, action: 'mounted', bytes: 0 });
    return true;
  };

  // Mounts in flight, the first of their failures, and the refused ones whose bytes settle() sends.
  const mounting = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const refused: Array<{ desc: Descriptor; key: string; body: BlobBody }> = [];
  const mountAll = async (desc: Descriptor, mounts: ReadonlyArray<[key: string, from: string]>, body: BlobBody): Promise<void> => {
    const settled = await Promise.allSettled(mounts.map(([key, from]) => mountLanes(() => mount(desc, key, from))));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (const [i, [key]] of mounts.entries()) {
      const took = settled[i];
      if (took?.status === 'fulfilled' && took.value) continue;
      mountRefused.add(registryOf(key));
      grow(desc.size);
      if (body.again) refused.push({ desc, key, body });
      else result.pending.set(desc.digest, [...(result.pending.get(desc.digest) ?? []), key]);
    }
  };

  const push = async (desc: Descriptor, keys: readonly string[], body: BlobBody): Promise<void> => {
    if (failure) throw failure.error;
    const { direct, mounts } = routes(keys, mountRefused);
    grow(desc.size * (direct.length - new Set(direct.map(registryOf)).size));
    await pushAll(desc, direct, body);
    if (mounts.length === 0) return;
    const job: Promise<void> = mountAll(desc, mounts, body).then(
      () => void mounting.delete(job),
      (error: unknown) => {
        mounting.delete(job);
        failure ??= { error };
        onFailure(error);
      },
    );
    mounting.add(job);
  };

  const idle = async (): Promise<void> => {
    while (mounting.size > 0) await Promise.all(mounting);
  };

  const settle = async (): Promise<void> => {
    await idle();
    if (failure) throw failure.error;
    // Refused: the bytes instead, read again, as many at once as the pass's lanes.
    await inLanes(refused.splice(0), Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY), ({ desc, key, body }) => pushTo(desc, key, (body.again as () => Readable)(), body.reopen));
  };

  return Object.assign(push, { settle, idle });
}

export async function pushBlobsFromBundle(options: BlobPassOptions): Promise<BlobPassResult> {
  const result = emptyPassResult();
  const spooled = new Set<Promise<void>>();
  const width = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  let failure: { error: unknown } | undefined;

  const pushOne = blobPusher(options, result);
  const settle = async (): Promise<void> => {
    await Promise.all(spooled);
    if (failure) throw failure.error;
    await pushOne.settle();
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
        if (keys?.length) await pushOne(desc, keys, { stream: Readable.from([bytes]), again: () => Readable.from([bytes]) });
        continue;
      }
      if (!keys?.length) continue; // the reader drains and still verifies it
      if (desc.size > SPOOL_BYTES) {
        await pushOne(desc, keys, { stream: blob.stream });
        continue;
      }
      // Read (and so verified by the reader) before a byte is sent; bounded: at most `width` held.
      const bytes = await readCapped(blob.stream, SPOOL_BYTES, blob.entry).catch(async (err: unknown) => {
        throw await options.bundle.explain(err);
      });
      while (spooled.size >= width) await Promise.race(spooled);
      const push: Promise<void> = pushOne(desc, keys, { stream: Readable.from([bytes]), again: () => Readable.from([bytes]) }).then(
        () => void spooled.delete(push),
        (error: unknown) => {
          spooled.delete(push);
          failure ??= { error };
        },
      );
      spooled.add(push);
    }
  } catch (err) {
    // Let pushes and mounts in flight finish (or fail) before reporting: nothing may outlive the pass.
    await Promise.all(spooled);
    await pushOne.idle();
    throw err;
  }
  try {
    await settle();
  } catch (err) {
    await pushOne.idle();
    throw err;
  }
  return result;
}
