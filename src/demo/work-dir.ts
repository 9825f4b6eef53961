import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

// Where the demo puts everything it makes: a fresh temp directory removed at
// the end, or the --keep directory, left in place for a look around. Either
// way the demo writes nowhere else — never the user's store.

export interface WorkDir {
  readonly root: string;
  /** True for --keep: dispose() leaves it. */
  readonly kept: boolean;
  path(...parts: string[]): string;
  /** Removes a temp work dir (idempotent); keeps a --keep one. */
  dispose(): Promise<void>;
}

function keepError(dir: string, why: string, cause?: unknown): UsageError {
  return new UsageError(`cannot use --keep ${dir}: ${why}`, { hint: 'name a new or empty directory you can write to, e.g. --keep ./ferry-demo', cause });
}

function describeErrno(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/** A --keep directory: created if absent; an existing one must be an empty, writable directory. */
async function keepDir(dir: string): Promise<string> {
  const root = resolve(dir);
  const info = await stat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw keepError(dir, describeErrno(err), err);
  });
  if (info && !info.isDirectory()) throw keepError(dir, 'it is a file, not a directory');
  if (info && (await readdir(root)).length > 0) throw keepError(dir, 'it is not empty (the demo never writes over files)');
  try {
    await mkdir(root, { recursive: true });
    await access(root, constants.W_OK);
  } catch (err) {
    throw keepError(dir, describeErrno(err), err);
  }
  return root;
}

export async function openWorkDir(keep?: string, tempRoot: string = tmpdir()): Promise<WorkDir> {
  const root = keep === undefined ? await mkdtemp(join(tempRoot, 'ferry-demo-')) : await keepDir(keep);
  const kept = keep !== undefined;
  return {
    root,
    kept,
    path: (...parts) => join(root, ...parts),
    dispose: async () => {
      if (!kept) await rm(root, { recursive: true, force: true });
    },
  };
}
