import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle, writeBundle } from '../../src/bundle/index.js';
import { UsageError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { BlobSet } from '../rig/image-blobs.js';
import { hasBinary, requireCapability, requirePeer, runOk } from '../rig/peers.js';
import { descriptorOf, fetchFrom, imageInput, tempDir, testImages } from './fixtures.js';

// Onto a real FAT32 file system, what a USB stick carries: an image made by
// mkfs.vfat (dosfstools), mounted by the kernel's vfat where the kernel has it,
// else by fusefat (FAT in user space; the CI kernel here has no vfat). ferry
// must see that the output is FAT (statfs; on FUSE, /proc/self/mountinfo): a
// bundle too large for one FAT file is refused before a byte is written, with
// the --split that fits; one that fits is streamed onto it. Unmounted, the raw
// image is read by dosfstools and mtools: the FAT is clean and holds the bundle,
// whose copy verifies.

const FUSE_SUPER_MAGIC = 0x65735546;
const isRoot = process.getuid?.() === 0;
const tools = requirePeer('mkfs.vfat', 'dosfstools') && requirePeer('fsck.vfat', 'dosfstools') && requirePeer('mdir', 'mtools') && requirePeer('mcopy', 'mtools');
const canMount = requireCapability('root (to mount a FAT image)', isRoot, 'run the tests as root');

interface Stick {
  image: string;
  dir: string;
  /** The fusefat daemon (in the foreground), when the kernel has no vfat. */
  fuse?: ChildProcess;
}

/** A 64 MiB FAT32 image, mounted by the kernel if it can; else undefined (then fusefat mounts it). */
function makeStick(): { stick: Stick; mounted: boolean } {
  const base = mkdtempSync(join(tmpdir(), 'ferry-fat-'));
  const stick = { image: join(base, 'stick.img'), dir: join(base, 'mnt') };
  execFileSync('truncate', ['-s', '64M', stick.image]);
  execFileSync('mkfs.vfat', ['-F', '32', stick.image], { stdio: 'ignore' });
  execFileSync('mkdir', [stick.dir]);
  try {
    execFileSync('mount', ['-t', 'vfat', '-o', 'loop', stick.image, stick.dir], { stdio: 'ignore' });
    return { stick, mounted: true };
  } catch {
    return { stick, mounted: false };
  }
}

const made = tools && canMount ? makeStick() : undefined;
const viaFuse = made !== undefined && !made.mounted;
const runs =
  made !== undefined &&
  (made.mounted || requireCapability('a FAT driver (the kernel has no vfat)', hasBinary('fusefat') && existsSync('/dev/fuse'), 'apt-get install -y fusefat (needs /dev/fuse)'));
const stick = made?.stick;
let work: Awaited<ReturnType<typeof tempDir>>;
let mounted = made?.mounted ?? false;

async function mountFuse(s: Stick): Promise<void> {
  s.fuse = spawn('fusefat', ['-f', '-o', 'rw+', s.image, s.dir], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    if ((await statfs(s.dir)).type === FUSE_SUPER_MAGIC) return;
    if (s.fuse.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`fusefat did not mount ${s.image} (exit ${String(s.fuse.exitCode)})`);
}

/** Unmounts, and waits for fusefat to have written everything back and exited. */
async function unmount(s: Stick): Promise<void> {
  if (!mounted) return;
  const exited = s.fuse && s.fuse.exitCode === null ? new Promise((resolve) => s.fuse?.once('exit', resolve)) : undefined;
  execFileSync('umount', [s.dir]);
  mounted = false;
  await exited;
}

/** mtools on the raw image (no mount): MTOOLS_SKIP_CHECK for an image without a partition table. */
const mtools = (cmd: string, args: string[]) => runOk(cmd, ['-i', stick!.image, ...args], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

beforeAll(async () => {
  work = await tempDir('ferry-fat-test-');
  if (runs && viaFuse && stick) {
    await mountFuse(stick);
    mounted = true;
  }
});

afterAll(async () => {
  if (stick) {
    await unmount(stick);
    rmSync(join(stick.dir, '..'), { recursive: true, force: true });
  }
  await work.cleanup();
});

describe.skipIf(!runs)(`a bundle written onto a FAT32 stick (${viaFuse ? 'fusefat' : 'kernel vfat'})`, () => {
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

  it('unmounted, the raw image is a clean FAT that holds exactly the bundle (dosfstools, mtools), and its copy verifies', async () => {
    const onStick = readFileSync(join(stick!.dir, 'app.tar'));
    await unmount(stick!);
    await runOk('fsck.vfat', ['-n', stick!.image]);
    const listed = await mtools('mdir', ['-b', '::']);
    expect(listed.stdout.trim().split('\n')).toEqual(['::/app.tar']);
    const copy = join(work.dir, 'copied.tar');
    await mtools('mcopy', ['::app.tar', copy]);
    expect(readFileSync(copy).equals(onStick), 'mtools reads the same bytes').toBe(true);
    expect((await verifyBundle(copy)).signature).toBe('none');
  });
});
