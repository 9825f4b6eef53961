import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle, type WriteBundleOptions } from '../../src/bundle/index.js';
import { digestHex } from '../../src/core/digest.js';
import { ExitCode, FerryError } from '../../src/core/errors.js';
import { ferry } from '../helpers/ferry-cli.js';
import { errorLines, sourceRefs } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { mountTmpfs, tmpfsAvailable } from '../rig/tmpfs.js';
import { ALL_IMAGES, fetchFrom, imageInput, tempDir, testImages } from './fixtures.js';

// A bundle written onto a device that fills up fails with one line that says
// so and leaves no partial file, whichever way it is written (placed from
// local files, or streamed). The device is a real 256 KiB tmpfs.

const canMount = tmpfsAvailable();
let work: Awaited<ReturnType<typeof tempDir>>;
let small: string;
let base: Omit<WriteBundleOptions, 'out'>;
let blobDir: string;

beforeAll(async () => {
  work = await tempDir('ferry-disk-full-');
  small = join(work.dir, 'small');
  mkdirSync(small);
  if (canMount) mountTmpfs(small, 'size=256k');
  const { set, blobs } = await testImages();
  blobDir = join(work.dir, 'blobs');
  await mkdir(blobDir);
  for (const [digest, bytes] of blobs.bytes) await writeFile(join(blobDir, digestHex(digest)), bytes);
  base = { images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, toolVersion: '0.1.0-test', created: new Date('2024-01-01T00:00:00Z') };
});

afterAll(async () => {
  if (canMount) execFileSync('umount', [small]);
  await work.cleanup();
});

async function refusal(promise: Promise<unknown>): Promise<FerryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the write must fail').toBeInstanceOf(FerryError);
  return err as FerryError;
}

describe.skipIf(!canMount)('a bundle that does not fit its device', () => {
  it.each([
    ['placed from local files', true],
    ['streamed', false],
  ])('%s: one line naming the full device, exit 2, nothing left behind', async (_name, placed) => {
    const out = join(small, placed ? 'placed.tar' : 'streamed.tar');
    const err = await refusal(writeBundle({ ...base, out, ...(placed ? { localFile: (d) => join(blobDir, digestHex(d.digest)) } : {}) }));
    expect(err.message).toMatch(/no space left/);
    expect(err.message).not.toContain('\n');
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(readdirSync(small)).toEqual([]);
    expect(existsSync(out)).toBe(false);
    // The bundle needs more than the device holds (or this test proves nothing).
    const needed = await Promise.all(readdirSync(blobDir).map(async (f) => (await readFile(join(blobDir, f))).length));
    expect(needed.reduce((a, b) => a + b, 0)).toBeGreaterThan(256 * 1024);
  });
});

describe.skipIf(!canMount || !rigContext().available)('a store that fills up', () => {
  it('ferry export: one line saying the device is full, a hint, exit 2 (not an internal error)', async () => {
    const storeDisk = join(work.dir, 'store-disk');
    mkdirSync(storeDisk);
    mountTmpfs(storeDisk, 'size=512k');
    try {
      const [ref] = sourceRefs(seededRig(), ['appA']) as [string];
      const r = await ferry(['export', ref, '-o', join(work.dir, 'x.tar'), '--plain-http', '--store', join(storeDisk, 'store')]);
      if (process.env.FERRY_SHOW_ERRORS) console.info(r.stderr);
      expect(r.code, r.stderr).toBe(2);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/no space left on the device/)]);
      expect(r.stderr).toMatch(/hint: free space/);
    } finally {
      execFileSync('umount', [storeDisk]);
    }
  });
});
