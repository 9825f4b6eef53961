import { randomBytes } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Configuration and manifests are replaced whole: written beside the target and
// renamed over it, so a reader (containerd reading hosts.toml on every pull,
// kubectl, git) never sees half a file. An existing file keeps its mode.

export async function writeFileAtomic(path: string, data: string | Uint8Array, defaultMode = 0o644): Promise<void> {
  const mode = await stat(path).then(
    (s) => s.mode & 0o7777,
    () => defaultMode,
  );
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data, { mode, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
