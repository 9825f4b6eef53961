import pLimit from 'p-limit';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContentSource, ContentTarget, Descriptor, FetchOptions, PushOptions } from '../../src/core/index.js';
import { copyGraph } from '../../src/transfer/copy-graph.js';
import { CopyScheduler } from '../../src/transfer/copy-scheduler.js';
import { overlaySource } from '../../src/transfer/overlay-source.js';
import { Planner } from '../../src/transfer/pull-plan.js';
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

  it('lets a download slot go when its body has ended, not when the store has committed the blob', async () => {
    const from = await tempStore();
    const to = await tempStore();
    cleanups.push(from.cleanup, to.cleanup);
    const first = layer('first-layer', 50_000);
    const second = layer('second-layer', 50_000);
    const cfg = config('two-layers');
    const m = imageManifest(cfg, [first, second]);
    await pushImage(from.store, 'a/b', 'two', [cfg, first, second], m);
    const repo = from.store.repository('a/b');
    const real = to.store.repository('a/b');

    const log: string[] = [];
    let releaseCommit!: () => void;
    const commitHeld = new Promise<void>((resolve) => (releaseCommit = resolve));
    const layers = new Set([first.desc.digest, second.desc.digest]);
    // The real store; only the push of the layer fetched first waits, once its bytes are in, to be let go (a slow commit).
    let held: string | undefined;
    const target: ContentTarget = {
      local: true,
      exists: (desc) => real.exists(desc),
      tag: (tag, desc) => real.tag(tag, desc),
      resumeOffset: (desc) => real.resumeOffset(desc),
      push: async (desc: Descriptor, body: Readable, options?: PushOptions) => {
        await real.push(desc, body, options);
        if (desc.digest === held) {
          await commitHeld;
          log.push('commit let go');
        }
      },
    };
    const source: ContentSource = {
      resolve: (ref) => repo.resolve(ref),
      fetch: async (desc: Descriptor, options?: FetchOptions) => {
        if (layers.has(desc.digest)) {
          if (held === undefined) held = desc.digest;
          else log.push('other layer fetched');
        }
        return repo.fetch(desc, options);
      },
    };
    // Let the commit go on its own if the other layer's fetch cannot start without its slot (the bug).
    const fallback = setTimeout(() => releaseCommit(), 3_000);
    const copied = copyGraph(source, target, [{ descriptor: m.desc, tags: ['two'] }], { scheduler: new CopyScheduler(pLimit(1)), repository: 'a/b' });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (log.includes('other layer fetched') || log.includes('commit let go')) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    releaseCommit();
    clearTimeout(fallback);
    await copied;
    expect(log).toEqual(['other layer fetched', 'commit let go']);
    expect(await real.exists(m.desc)).toBe(true);
  });

  it('reads a manifest held in memory, and plans against the store, while every request slot is taken', async () => {
    const from = await tempStore();
    const to = await tempStore();
    cleanups.push(from.cleanup, to.cleanup);
    const l = layer('in-store-layer', 1_000);
    const cfg = config('in-memory-manifest');
    const m = imageManifest(cfg, [l]);
    await pushImage(from.store, 'a/b', 'x', [cfg, l], m);
    const target = to.store.repository('a/b');
    // The store has the blobs, not the manifest; the manifest's bytes are in memory (as export's plan leaves them).
    await target.push(cfg.desc, Readable.from([cfg.bytes]));
    await target.push(l.desc, Readable.from([l.bytes]));
    const written = new Map([[m.desc.digest, m.bytes]]);
    const refusing: ContentSource = {
      resolve: () => Promise.reject(new Error('no request expected')),
      fetch: () => Promise.reject(new Error('no request expected')),
    };
    const source = overlaySource(refusing, written);

    const limit = pLimit(1);
    let release!: () => void;
    const busy = limit(() => new Promise<void>((resolve) => (release = resolve)));
    const log: string[] = [];
    // Let the slot go on its own if the local work cannot finish without it (the bug).
    const fallback = setTimeout(() => {
      log.push('slot let go');
      release();
    }, 3_000);
    const planner = new Planner(limit);
    const present = await planner.add({ target, source, roots: [m.desc], written });
    log.push('planned');
    await copyGraph(source, target, [{ descriptor: m.desc, tags: ['x'] }], { scheduler: new CopyScheduler(limit), repository: 'a/b', present: (d) => present.has(d.digest) });
    log.push('copied');
    clearTimeout(fallback);
    release();
    await busy;
    expect(log).toEqual(['planned', 'copied']);
    expect(await target.exists(m.desc)).toBe(true);
  });
});
