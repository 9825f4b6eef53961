import { closeSync, fsyncSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';

/** fsync a directory so a rename into it survives a power loss (containerd does the same after its rename). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes files that may already be gone. */
export async function removeQuietly(...paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
