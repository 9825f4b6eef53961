import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle, writeBundle } from '../../src/bundle/index.js';
import { UsageError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { BlobSet } from '../rig/image-blobs.js';
import { descriptorOf, fetchFrom, imageInput, tempDir, testImages } from './fixtures.js';

// Onto a real FAT file system (a loop-mounted vfat image, what a USB stick
// carries): a bundle too large for one FAT file is refused before a byte is
// written, with the --split that fits; a bundle that fits is written (streamed:
// FAT cannot take out-of-order writes) and verifies. Needs root, mkfs.vfat
// (dosfstools) and a kernel with vfat; skipped elsewhere (the CI machines here
// have no vfat module, so this runs on a developer's Linux box).

/** A vfat image loop-mounted on a new directory, or undefined where that is not allowed here. */
function mountVfat(): { dir: string; image: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const base = mkdtempSync(join(tmpdir(), 'ferry-fat-'));
  const image = join(base, 'stick.img');
  const dir = join(base, 'mnt');
  try {
    execFileSync('truncate', ['-s', '16M', image]);
    execFileSync('mkfs.vfat', [image], { stdio: 'ignore' });
    execFileSync('mkdir', [dir]);
    execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'ignore' });
    return { dir, image };
  } catch {
    rmSync(base, { recursive: true, force: true });
    return undefined;
  }
}

const stick = mountVfat();
let work: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  work = await tempDir('ferry-fat-test-');
});

afterAll(async () => {
  if (stick) {
    execFileSync('umount', [stick.dir]);
    rmSync(join(stick.dir, '..'), { recursive: true, force: true });
  }
  await work.cleanup();
});

describe.skipIf(!stick)('a bundle written onto a FAT stick', () => {
  it('larger than one FAT file can be: refused at once, naming --split fat32, nothing written', async () => {
    // A manifest whose layer claims 5 GiB: the refusal must come before any layer is read.
    const set = new BlobSet();
    const config = set.addJson(MediaType.ociConfig, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const huge = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${'5'.repeat(64)}`, size: 5 * 1024 ** 3 };
    const root = set.addJson(MediaType.ociManifest, { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [huge] });
    const source = fetchFrom(set);
    const err = await writeBundle({ images: [{ name: 'r.example/huge:1', root: descriptorOf(root) }], fetch: source.fetch, out: join(stick!.dir, 'huge.tar'), toolVersion: 't' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/is on a FAT file system, which holds at most 4294967295 bytes in one file/);
    expect((err as UsageError).hint).toMatch(/--split fat32/);
    expect(source.calls.get(huge.digest) ?? 0).toBe(0);
    expect(readdirSync(stick!.dir)).toEqual([]);
  });

  it('that fits: written (streamed) and verified from the stick', async () => {
    const { set, blobs } = await testImages();
    const out = join(stick!.dir, 'app.tar');
    const written = await writeBundle({ images: [imageInput(set, 'appA')], fetch: fetchFrom(blobs).fetch, localFile: () => undefined, out, toolVersion: 't' });
    expect(written.sha256, 'FAT: the tar is streamed, not placed').toBeDefined();
    expect((await verifyBundle(out)).blobs).toBe(written.bundleJson.blobs.count);
  });
});
