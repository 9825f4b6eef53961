import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { runningRelease } from '../../src/release/index.js';

// For the release suites: the checkout's release (built once into release/,
// reused while it is still this checkout's — runningRelease checks that), and
// a reader of a .tar.gz's entries: every header field and each file's sha256.

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface TarGzEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  size: number;
  sha256: string;
  data?: Buffer;
}

/** Every entry of a .tar.gz in order; the bytes of files named in `keep` too. */
export async function readTarGz(path: string, keep: readonly string[] = []): Promise<TarGzEntry[]> {
  const out: TarGzEntry[] = [];
  const ex = extract();
  const reading = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        hash.update(chunk);
        if (keep.includes(h.name)) chunks.push(chunk);
      }
      out.push({
        name: h.name,
        type: h.type ?? 'file',
        mode: h.mode ?? 0,
        uid: h.uid ?? -1,
        gid: h.gid ?? -1,
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        mtime: Math.trunc((h.mtime?.getTime() ?? 0) / 1000),
        size: h.size ?? 0,
        sha256: hash.digest('hex'),
        ...(keep.includes(h.name) ? { data: Buffer.concat(chunks) } : {}),
      });
    }
  })();
  await Promise.all([pipeline(createReadStream(path), createGunzip(), ex), reading]);
  return out;
}

let shared: Promise<string> | undefined;

/** This checkout's release file (release/ferry-<version>-<os>-<arch>.tar.gz), built at most once per run. */
export function checkoutRelease(): Promise<string> {
  shared ??= (async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'ferry-release-scratch-'));
    try {
      return await runningRelease(scratch, REPO_ROOT);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  })();
  return shared;
}
