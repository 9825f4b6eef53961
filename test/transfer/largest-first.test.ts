import pLimit from 'p-limit';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContentSource, Descriptor, FetchOptions } from '../../src/core/index.js';
import { copyGraph } from '../../src/transfer/copy-graph.js';
import { CopyScheduler } from '../../src/transfer/copy-scheduler.js';
import { overlaySource } from '../../src/transfer/overlay-source.js';
import { config, imageManifest, layer, pushImage, tempStore } from '../store/helpers/store-fixtures.js';

// Blobs waiting for a request slot get it largest first, whatever order they
// were found in: the longest download (an export's Windows base layer, found
// last behind a manifest list) starts first instead of ending the pull alone.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A source over `repo` that records the names of the blobs fetched, in order (`onFetch` sees each name first). */
function recordingSource(repo: Pick<ContentSource, 'resolve' | 'fetch'>, names: Map<string, string>, onFetch?: (name: string) => void): { source: ContentSource; fetched: string[] } {
  const fetched: string[] = [];
  const source: ContentSource = {
    resolve: (ref) => repo.resolve(ref),
    fetch: async (desc: Descriptor, options?: FetchOptions): Promise<Readable> => {
      const name = names.get(desc.digest);
      if (name) {
        fetched.push(name);
        onFetch?.(name);
      }
      return repo.fetch(desc, options);
    },
  };
  return { source, fetched };
}

/** Two stores; in the first, a/b:x with a config and `layers` (name, size), and a name for each blob's digest. */
async function storedImage(configName: string, layers: ReadonlyArray<[string, number]>) {
  const from = await tempStore();
  const to = await tempStore();
  cleanups.push(from.cleanup, to.cleanup);
  const blobs = layers.map(([name, size]) => layer(name, size));
  const cfg = config(configName);
  const m = imageManifest(cfg, blobs);
  await pushImage(from.store, 'a/b', 'x', [cfg, ...blobs], m);
  const names = new Map<string, string>(blobs.map((b, i) => [b.desc.digest, layers[i]?.[0] ?? '']));
  names.set(cfg.desc.digest, 'config');
  return { repo: from.store.repository('a/b'), target: to.store.repository('a/b'), m, names };
}

describe('copyGraph with every slot taken', () => {
  it('fetches the waiting blobs largest first', async () => {
    const { repo, target, m, names } = await storedImage('three-layers', [['small', 1_000], ['big', 30_000], ['middle', 5_000]]);
    const { source, fetched } = recordingSource(repo, names);
    const limit = pLimit(1);
    const scheduler = new CopyScheduler(limit);
    // The one slot is busy until all four blobs wait for it (the manifest is in memory, as export's plan leaves it).
    let release!: () => void;
    const busy = limit(() => new Promise<void>((resolve) => (release = resolve)));
    const inMemory = overlaySource(source, new Map([[m.desc.digest, m.bytes]]));
    const copied = copyGraph(inMemory, target, [{ descriptor: m.desc, tags: ['x'] }], { scheduler, repository: 'a/b' });
    const since = Date.now();
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (limit.pendingCount === 4 || Date.now() - since > 2_000) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    release();
    await busy;
    await copied;
    expect(fetched).toEqual(['big', 'middle', 'small', 'config']);
  });

  it('with small slots, fetches a small blob while the large downloads hold every slot of the limit', async () => {
    const { repo, target, m, names } = await storedImage('small-config', [['big', 200_000], ['other', 100_000]]);
    // The one large slot is busy until the config has been fetched (or 3 s pass: the bug, the config waiting behind it).
    const limit = pLimit(1);
    let release!: () => void;
    const busy = limit(() => new Promise<void>((resolve) => (release = resolve)));
    const fallback = setTimeout(() => release(), 3_000);
    const { source, fetched } = recordingSource(repo, names, (name) => {
      if (name === 'config') release();
    });
    const scheduler = new CopyScheduler(limit, { smallSlots: 1 });
    const inMemory = overlaySource(source, new Map([[m.desc.digest, m.bytes]]));
    await copyGraph(inMemory, target, [{ descriptor: m.desc, tags: ['x'] }], { scheduler, repository: 'a/b' });
    await busy;
    clearTimeout(fallback);
    expect(fetched).toEqual(['config', 'big', 'other']);
  });
});
