import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isDiskFull } from '../core/disk-full.js';
import { FerryError, UsageError } from '../core/errors.js';

// What a user is told when the device a bundle is written to refuses it: a
// full stick, a quota, or a file larger than the file system takes (FAT32
// holds 4 GiB a file) — one line and a hint, not an internal error.

/** A FerryError for a write failure the user can fix, or undefined for anything else. */
export function outputError(code: string | undefined, path: string): FerryError | undefined {
  // Named as the user named it, not as the temporary NAME.partial being written.
  path = path.replace(/\.partial$/, '');
  if (isDiskFull({ code })) {
    return new UsageError(`no space left on the device while writing ${path}`, { hint: 'free space, write the bundle elsewhere, or cut it into volumes (--split SIZE) across several sticks' });
  }
  if (code === 'EFBIG') {
    return new UsageError(`${path} is larger than its file system allows in one file (FAT32: 4 GiB)`, { hint: 'cut the bundle into volumes: --split fat32' });
  }
  return undefined;
}

/** Creates the folder a bundle (or its volumes) goes to, as `mkdir -p` would; a path that cannot hold one is a usage error. */
export async function makeOutputDir(out: string): Promise<void> {
  const dir = dirname(out);
  await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    const why = err.code === 'ENOTDIR' ? 'a part of it is a file' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'EROFS' ? 'the file system is read-only' : err.message;
    throw outputError(err.code, out) ?? new UsageError(`cannot make the folder ${dir} for ${out}: ${why}`, { cause: err });
  });
}
