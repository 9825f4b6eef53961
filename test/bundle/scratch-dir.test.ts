import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, writeBundle } from '../../src/bundle/index.js';
import { sweepDeadScratch } from '../../src/bundle/scratch-dir.js';
import { ALL_IMAGES, fetchFrom, imageInput, tempDir, testImages } from './fixtures.js';

// A killed run cannot remove its scratch directory (a spooled index.db): the
// next bundle spooled or written there removes it, and only dead runs' ones. A
// small index.db is opened from memory and makes no directory at all;
// spoolIndexDb makes the test bundle's index.db take the large one's path.

const DIST_BUNDLE = resolve(import.meta.dirname, '../../dist/bundle/index.js');
let work: Awaited<ReturnType<typeof tempDir>>;
let bundle: string;

beforeAll(async () => {
  work = await tempDir('ferry-scratch-test-');
  const { set, blobs } = await testImages();
  bundle = join(work.dir, 'b.tar');
  await writeBundle({ images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, out: bundle, toolVersion: '0.1.0-test', created: new Date('2024-01-01T00:00:00Z') });
});

afterAll(async () => {
  await work.cleanup();
});

/** A child that opens the bundle with its scratch under `base`, says so, and waits to be killed. */
function holdOpen(base: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const code = `const { openBundle } = await import(${JSON.stringify(DIST_BUNDLE)}); await openBundle(${JSON.stringify(bundle)}, { tempDir: ${JSON.stringify(base)}, spoolIndexDb: true }); console.log('open'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((done, fail) => {
    child.stdout.once('data', () => done({ pid: child.pid as number, kill: async () => void (child.kill('SIGKILL'), await exited) }));
    child.once('exit', (code) => fail(new Error(`the child exited (${code}) before opening the bundle`)));
  });
}

describe('scratch directories', () => {
  it('a run killed with -9 leaves its spool; the next open removes it and keeps live runs\' ones', async () => {
    const base = join(work.dir, 'tmp');
    await mkdir(base);
    const victim = await holdOpen(base);
    const live = await holdOpen(base);
    await victim.kill();
    const before = await readdir(base);
    expect(before.filter((n) => n.startsWith(`ferry-bundle-${victim.pid}-`))).toHaveLength(1);
    await mkdir(join(base, 'ferry-unrelated'));
    const opened = await openBundle(bundle, { tempDir: base, spoolIndexDb: true });
    try {
      const during = await readdir(base);
      expect(during.some((n) => n.startsWith(`ferry-bundle-${victim.pid}-`)), 'the dead run\'s spool is gone').toBe(false);
      expect(during.filter((n) => n.startsWith(`ferry-bundle-${live.pid}-`)), 'a running reader keeps its spool').toHaveLength(1);
      expect(during.filter((n) => n.startsWith(`ferry-bundle-${process.pid}-`)), 'this reader has its own').toHaveLength(1);
      expect(during).toContain('ferry-unrelated');
    } finally {
      await opened.close();
      await live.kill();
    }
    expect((await readdir(base)).filter((n) => n.startsWith(`ferry-bundle-${process.pid}-`))).toHaveLength(0);
    // The writer sweeps as well.
    await writeBundle({ images: [imageInput((await testImages()).set, 'appA')], fetch: fetchFrom((await testImages()).blobs).fetch, out: join(work.dir, 'c.tar'), toolVersion: '0.1.0-test', tempDir: base });
    expect((await readdir(base)).filter((n) => n.startsWith(`ferry-bundle-${live.pid}-`))).toHaveLength(0);
    expect(existsSync(join(base, 'ferry-unrelated'))).toBe(true);
  });

  it('a bundle whose index.db opens from memory writes nothing under tempDir, and its head reads the same', async () => {
    const base = join(work.dir, 'none');
    await mkdir(base);
    const opened = await openBundle(bundle, { tempDir: base });
    const spooled = await openBundle(bundle, { tempDir: join(work.dir, 'tmp'), spoolIndexDb: true });
    try {
      expect(await readdir(base)).toEqual([]);
      expect(opened.db.images()).toEqual(spooled.db.images());
      expect(opened.db.blobs()).toEqual(spooled.db.blobs());
    } finally {
      await opened.close();
      await spooled.close();
    }
    expect(await readdir(base)).toEqual([]);
  });

  it('a pid is judged only in its own pid namespace: another namespace\'s directory is never swept', async () => {
    const base = join(work.dir, 'ns');
    await mkdir(base);
    const ours = /\[(\d+)\]/.exec(await readlink('/proc/self/ns/pid'))?.[1] as string;
    // No process has this pid here, so without the namespace rule each would go.
    const dead = 4_000_000 + (process.pid % 1000);
    const names = { otherNamespace: `ferry-write-${dead}-n1${ours}-AbC123`, thisNamespace: `ferry-write-${dead}-n${ours}-AbC123`, older: `ferry-bundle-${dead}-AbC123` };
    for (const n of Object.values(names)) await mkdir(join(base, n));
    const swept = await sweepDeadScratch(base);
    expect(swept.sort()).toEqual([names.older, names.thisNamespace].sort());
    expect(await readdir(base)).toEqual([names.otherNamespace]);
  });
});
