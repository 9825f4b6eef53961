import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FAT32_MAX_FILE } from './split-size.js';

// What the file system a bundle goes to allows, asked once before writing
// (statfs f_type, linux/magic.h): whether out-of-order writes leave sparse gaps
// (the placed writer needs that), and the largest file it holds (FAT: 4 GiB - 1,
// the sticks people carry images on).

const SPARSE_CAPABLE = new Set([0xef53 /* ext2/3/4 */, 0x58465342 /* xfs */, 0x9123683e /* btrfs */, 0x01021994 /* tmpfs */, 0x2fc12fc1 /* zfs */, 0x794c7630 /* overlayfs */, 0xf2f52010 /* f2fs */]);
const MSDOS_SUPER_MAGIC = 0x4d44;

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
  return (await typeOf(path)) === MSDOS_SUPER_MAGIC ? FAT32_MAX_FILE : undefined;
}
