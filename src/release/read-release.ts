import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { digestFromHex, type Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError, UsageError } from '../core/errors.js';
import { readCapped } from '../core/read-capped.js';
import { parseReleaseFileName, type ReleaseName } from '../bundle/index.js';
import { tap } from './release-tar.js';
import { formatReleaseSums, MANIFEST_PATH, parseManifest, SUMS_PATH, type ReleaseManifest } from './release-manifest.js';

// Checks a release file before it goes on a stick: the name says
// ferry-<version>-<os>-<arch>.tar.gz and RELEASE.json inside says the same;
// every entry is a plain file or directory under `ferry/`; every file is
// listed in RELEASE.json with its mode, size and sha256, nothing else is there,
// and SHA256SUMS is exactly the list RELEASE.json implies. One pass through
// gunzip, every file hashed as it streams.

export interface ReleaseInfo extends ReleaseName {
  path: string;
  /** The release file's own sha256 and size: what bundle.json records. */
  digest: Digest;
  size: number;
  manifest: ReleaseManifest;
}

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

function bad(file: string, what: string): IntegrityError {
  return new IntegrityError(`${file}: ${what}`, { code: ErrorCode.bundleInvalid, subject: file });
}

interface Seen {
  mode: string;
  size: number;
  sha256: string;
}

export async function checkRelease(path: string): Promise<ReleaseInfo> {
  const file = basename(path);
  const name = parseReleaseFileName(file);
  if (!name) throw new UsageError(`${file} is not named like a ferry release (ferry-<version>-<os>-<arch>.tar.gz)`, { hint: 'build one with npm run release' });
  const outer = createHash('sha256');
  let size = 0;
  const seen = new Map<string, Seen>();
  let manifestBytes: Buffer | undefined;
  let sumsBytes: Buffer | undefined;
  const { extract } = await import('tar-stream');
  const tar = extract();
  const reading = (async () => {
    for await (const entry of tar) {
      const h = entry.header;
      const rel = h.name.startsWith('ferry/') ? h.name.slice('ferry/'.length).replace(/\/$/, '') : undefined;
      if (rel === undefined || rel.split('/').some((p) => p === '..' || p === '.') || h.name.includes('\\')) throw bad(file, `entry ${JSON.stringify(h.name).slice(0, 120)} is not under ferry/`);
      if (h.type === 'directory' && rel !== '') {
        entry.resume();
        continue;
      }
      if (h.type !== 'file' && !(h.type === 'directory' && rel === '')) throw bad(file, `entry ${h.name} is a ${h.type}: a release holds files and directories only`);
      if (rel === '') {
        entry.resume();
        continue;
      }
      if (seen.has(rel)) throw bad(file, `entry ${h.name} appears twice`);
      if (rel === MANIFEST_PATH || rel === SUMS_PATH) {
        const bytes = await readCapped(entry as unknown as Readable, MAX_MANIFEST_BYTES, h.name);
        if (rel === MANIFEST_PATH) manifestBytes = bytes;
        else sumsBytes = bytes;
        seen.set(rel, { mode: (h.mode ?? 0).toString(8).padStart(4, '0'), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
        continue;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      seen.set(rel, { mode: (h.mode ?? 0).toString(8).padStart(4, '0'), size: bytes, sha256: hash.digest('hex') });
    }
  })();
  const counting = tap((chunk) => {
    outer.update(chunk);
    size += chunk.length;
  });
  try {
    await Promise.all([pipeline(createReadStream(path), counting, createGunzip(), tar), reading]);
  } catch (err) {
    if (err instanceof IntegrityError || err instanceof UsageError) throw err;
    throw bad(file, `is not a readable .tar.gz (${(err as Error).message})`);
  }
  if (!manifestBytes || !sumsBytes) throw bad(file, `holds no ferry/${MANIFEST_PATH} and ferry/${SUMS_PATH}: not a ferry release`);
  const manifest = parseManifest(manifestBytes);
  if (manifest.version !== name.version || manifest.os !== name.os || manifest.arch !== name.arch) {
    throw bad(file, `holds ferry ${manifest.version} for ${manifest.os}-${manifest.arch}, not what its name says`);
  }
  for (const f of manifest.files) {
    const got = seen.get(f.path);
    if (!got) throw bad(file, `ferry/${f.path} is listed in ${MANIFEST_PATH} but missing`);
    if (got.size !== f.size || got.sha256 !== f.sha256) throw bad(file, `ferry/${f.path} does not match ${MANIFEST_PATH} (sha256 ${got.sha256})`);
    if (got.mode !== f.mode) throw bad(file, `ferry/${f.path} has mode ${got.mode}, ${MANIFEST_PATH} says ${f.mode}`);
  }
  const listed = new Set([...manifest.files.map((f) => f.path), MANIFEST_PATH, SUMS_PATH]);
  const extra = [...seen.keys()].find((p) => !listed.has(p));
  if (extra) throw bad(file, `ferry/${extra} is not listed in ${MANIFEST_PATH}`);
  const sums = formatReleaseSums([...manifest.files, { path: MANIFEST_PATH, sha256: (seen.get(MANIFEST_PATH) as Seen).sha256 }]);
  if (!sums.equals(sumsBytes)) throw bad(file, `ferry/${SUMS_PATH} does not list exactly the files of ${MANIFEST_PATH}`);
  return { path, ...name, digest: digestFromHex(outer.digest('hex')), size, manifest };
}
