import pLimit from 'p-limit';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContentSource, Descriptor, FetchOptions } from '../../src/core/index.js';
import { copyGraph } from '../../src/transfer/copy-graph.js';
import { CopyScheduler } from '../../src/transfer/copy-scheduler.js';
import { config, imageManifest, layer, pushImage, tempStore } from '../store/helpers/store-fixtures.js';

// A store target's steps (lookups, links, manifest commits) are local work: they
// must not wait for a request slot held by another image's download. With one
// slot taken by a blob whose fetch is held open, a second copy into the store of
// an image it already holds finishes before that download is let go.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('copyGraph into a local target', () => {
  it('runs the store steps of one copy while another holds every request slot', async () => {
    const from = await tempStore();
    const to = await tempStore();
    cleanups.push(from.cleanup, to.cleanup);
    const slow = layer('held-layer', 100_000);
    const c1 = config('held-config');
    const m1 = imageManifest(c1, [slow]);
    const kept = layer('kept-layer', 1_000);
    const c2 = config('kept-config');
    const m2 = imageManifest(c2, [kept]);
    await pushImage(from.store, 'a/b', 'held', [c1, slow], m1);
    await pushImage(from.store, 'a/b', 'kept', [c2, kept], m2);
    await pushImage(to.store, 'a/b', 'kept', [c2, kept], m2);

    const log: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const fetchStarted = new Promise<void>((resolve) => (started = resolve));
    const repo = from.store.repository('a/b');
    // The source is the real store repository; only the big layer's fetch waits to be let go.
    const source: ContentSource = {
      resolve: (ref) => repo.resolve(ref),
      fetch: async (desc: Descriptor, options?: FetchOptions): Promise<Readable> => {
        if (desc.digest === slow.desc.digest) {
          started();
          await released;
          log.push('held download let go');
        }
        return repo.fetch(desc, options);
      },
    };
    const scheduler = new CopyScheduler(pLimit(1));
    const target = to.store.repository('a/b');
    const first = copyGraph(source, target, [{ descriptor: m1.desc, tags: ['held'] }], { scheduler, repository: 'a/b' });
    await fetchStarted;
    // Let the download go on its own if the second copy cannot finish without its slot (the bug).
    const fallback = setTimeout(release, 3_000);
    await copyGraph(source, target, [{ descriptor: m2.desc, tags: ['kept'] }], { scheduler, repository: 'a/b' });
    log.push('second copy done');
    release();
    clearTimeout(fallback);
    await first;
    expect(log).toEqual(['second copy done', 'held download let go']);
    expect(await target.exists(m1.desc)).toBe(true);
  });
});
