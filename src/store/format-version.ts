import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { ErrorCode, UsageError } from '../core/index.js';
import type { StoreLayout } from './layout.js';

/** The on-disk format this code reads and writes. Bump it for any incompatible layout change. */
export const STORE_FORMAT_VERSION = 1;

function versionError(root: string, found: string): UsageError {
  return new UsageError(`store ${root} has format version ${found}; this ferry reads store format ${STORE_FORMAT_VERSION}`, {
    code: ErrorCode.storeVersion,
    hint: 'use the ferry release that wrote this store, or point --store (FERRY_STORE) at another directory',
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Checks VERSION, creating the store skeleton when the directory is new. A directory
 * that already holds an index or blobs but no VERSION file is refused, never adopted.
 */
export async function ensureFormatVersion(layout: StoreLayout, options: { create: boolean }): Promise<void> {
  let text: string | undefined;
  try {
    text = await readFile(layout.versionFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    if ((await exists(layout.indexDb)) || (await exists(layout.blobsDir))) throw versionError(layout.root, 'unknown (no VERSION file)');
    if (!options.create) throw new UsageError(`no ferry store at ${layout.root}`, { code: ErrorCode.storeVersion });
    await mkdir(layout.root, { recursive: true });
    try {
      // 'wx': when two processes create the store at once, one writes and the other reads it back.
      await writeFile(layout.versionFile, `${STORE_FORMAT_VERSION}\n`, { flag: 'wx' });
      text = `${STORE_FORMAT_VERSION}\n`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      text = await readFile(layout.versionFile, 'utf8');
    }
  }
  const found = text.trim();
  if (found !== String(STORE_FORMAT_VERSION)) throw versionError(layout.root, `'${found.slice(0, 40)}'`);
  if (options.create) {
    await Promise.all([layout.blobsDir, layout.ingestDir, layout.trashDir].map((dir) => mkdir(dir, { recursive: true })));
  }
}
