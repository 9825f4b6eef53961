import { readFile, realpath, statfs } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { FAT32_MAX_FILE } from './split-size.js';

// What the file system a bundle goes to allows, asked once before writing
// (statfs f_type, linux/magic.h): whether out-of-order writes leave sparse gaps
// (the writer's pool copies need that), and the largest file it holds (FAT: 4 GiB - 1,
// the sticks people carry images on). A FUSE mount reports only "FUSE" to
// statfs; /proc/self/mountinfo names the driver (fuse.fusefat: a FAT stick
// mounted in user space, where the kernel has no vfat).

const SPARSE_CAPABLE = new Set([0xef53 /* ext2/3/4 */, 0x58465342 /* xfs */, 0x9123683e /* btrfs */, 0x01021994 /* tmpfs */, 0x2fc12fc1 /* zfs */, 0x794c7630 /* overlayfs */, 0xf2f52010 /* f2fs */]);
const MSDOS_SUPER_MAGIC = 0x4d44;
const FUSE_SUPER_MAGIC = 0x65735546;
const FAT_FUSE_TYPES = new Set(['fuse.fusefat']);

async function typeOf(path: string): Promise<number | undefined> {
  try {
    return (await statfs(dirname(path))).type;
  } catch {
    return undefined;
  }
}

/** Whether a bundle written at `path` may be placed out of order. */
export async function canPlaceAt(path: string): Promise<boolean> {
  const type = await typeOf(path);
  return type !== undefined && SPARSE_CAPABLE.has(type);
}

/** The largest file the file system at `path` holds, when it is known to be small (FAT); else undefined. */
export async function maxFileSize(path: string): Promise<number | undefined> {
  const type = await typeOf(path);
  const fat = type === MSDOS_SUPER_MAGIC || (type === FUSE_SUPER_MAGIC && FAT_FUSE_TYPES.has((await mountTypeOf(dirname(path))) ?? ''));
  return fat ? FAT32_MAX_FILE : undefined;
}

/** The type /proc/self/mountinfo gives the mount holding `dir` (the last mount on the longest matching point), if it can be read. */
async function mountTypeOf(dir: string): Promise<string | undefined> {
  const [text, real] = await Promise.all([readFile('/proc/self/mountinfo', 'utf8').catch(() => ''), realpath(dir).catch(() => dir)]);
  let best: { point: string; type: string } | undefined;
  for (const line of text.split('\n')) {
    // id parent major:minor root MOUNT-POINT options [optional…] - TYPE source super-options
    const [left, right] = line.split(' - ');
    const point = left?.split(' ')[4]?.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const type = right?.split(' ')[0];
    if (!point || !type) continue;
    const holds = real === point || real.startsWith(point.endsWith(sep) ? point : point + sep);
    if (holds && (!best || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type;
}
