import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { END_OF_ARCHIVE_BYTES, paddingFor, ustarHeader } from '../bundle/index.js';
import type { PlannedFile } from './release-plan.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// A release as bytes: one ustar tar, every entry under `ferry/`, directories
// included, sorted by name, mtime = SOURCE_DATE_EPOCH, uid/gid 0, no user or
// group names, mode 0755 for directories and executables and 0644 otherwise;
// gzip'd by Node's zlib at level 6 with no name and mtime 0 in its header. The
// same files give the same bytes. Each file is hashed again as it is copied
// and must match the plan.

const GZIP_LEVEL = 6;

export interface WrittenRelease {
  /** sha256 (hex) and size of the .tar.gz. */
  sha256: string;
  size: number;
  /** sha256 (hex) of the tar inside. */
  tarSha256: string;
}

interface Entry {
  name: string;
  file?: PlannedFile;
}

function entries(files: readonly PlannedFile[]): Entry[] {
  const dirs = new Set<string>(['ferry/']);
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`ferry/${parts.slice(0, i).join('/')}/`);
  }
  const all: Entry[] = [...[...dirs].map((name) => ({ name })), ...files.map((file) => ({ name: `ferry/${file.path}`, file }))];
  return all.sort(byCodeUnits((f) => f.name));
}

async function* fileBytes(file: PlannedFile): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(file.from)) {
    yield file.from;
    return;
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file.from, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > file.size) break;
    hash.update(chunk);
    yield chunk;
  }
  const hex = hash.digest('hex');
  if (size !== file.size || hex !== file.sha256) {
    throw new IntegrityError(`${file.from} changed while the release was built (${size} bytes, sha256 ${hex}; planned ${file.size}, ${file.sha256})`, { code: ErrorCode.digestMismatch, subject: file.path });
  }
}

/** The tar's bytes, in order. */
async function* tarBytes(files: readonly PlannedFile[], epoch: number): AsyncGenerator<Buffer> {
  const mtime = new Date(epoch * 1000);
  for (const e of entries(files)) {
    if (!e.file) {
      yield ustarHeader(e.name, 0, mtime, { mode: 0o755, directory: true });
      continue;
    }
    yield ustarHeader(e.name, e.file.size, mtime, { mode: e.file.mode });
    yield* fileBytes(e.file);
    yield paddingFor(e.file.size);
  }
  yield Buffer.alloc(END_OF_ARCHIVE_BYTES);
}

/** A pipeline stage that shows every chunk to `onChunk` and passes it on. */
export function tap(onChunk: (chunk: Buffer) => void): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    for await (const chunk of source) {
      onChunk(chunk);
      yield chunk;
    }
  };
}

/** Writes `out` (through a `.partial` file, renamed when complete). */
export async function writeReleaseTarGz(files: readonly PlannedFile[], epoch: number, out: string): Promise<WrittenRelease> {
  const tar = createHash('sha256');
  const gz = createHash('sha256');
  let size = 0;
  // Unique: two builds of the same release may run at once (they make the same bytes).
  const partial = `${out}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.partial`;
  try {
    await pipeline(
      Readable.from(tarBytes(files, epoch)),
      tap((c) => tar.update(c)),
      createGzip({ level: GZIP_LEVEL }),
      tap((c) => {
        gz.update(c);
        size += c.length;
      }),
      createWriteStream(partial, { mode: 0o644 }),
    );
    await rename(partial, out);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return { sha256: gz.digest('hex'), size, tarSha256: tar.digest('hex') };
}

/** The sha256 (hex) of the tar `files` make, without compressing or writing it (to recognise a release already built). */
export async function releaseTarSha256(files: readonly PlannedFile[], epoch: number): Promise<string> {
  const tar = createHash('sha256');
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => (tar.update(chunk), done()) });
  await pipeline(Readable.from(tarBytes(files, epoch)), sink);
  return tar.digest('hex');
}
