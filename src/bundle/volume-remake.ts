import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Descriptor } from '../core/descriptor.js';
import { ErrorCode, IntegrityError, UsageError } from '../core/errors.js';
import { verifyStream } from '../core/hashing.js';
import { buildHead, bundleEntries } from './bundle-head.js';
import { resolveCreated } from './bundle-json-build.js';
import { walkBundleGraph, type BundleImageInput, type FetchBlob } from './graph-walk.js';
import { makeOutputDir, outputError } from './output-errors.js';
import { scratchDir } from './scratch-dir.js';
import { keyIdOf, parsePrivateKey } from './sign.js';
import type { PlacedEntry } from './placed-writer.js';
import { END_OF_ARCHIVE_BYTES, paddedSize, paddingFor, TAR_BLOCK, ustarHeader } from './ustar.js';
import type { ToolInput } from './tool-entries.js';
import { volumeName, type VolumeInfo } from './volume-sidecar.js';
import { syncDir } from './volume-split.js';

// One volume of a split bundle, written alone (`ferry export … --only-volume N`).
// The tar is deterministic (design §4), so each entry's offset follows from the
// entry list: only the entries that overlap bytes [N·split, (N+1)·split) are
// read, and only those bytes are written. A file entry (a store blob, index.db)
// is read whole and checked against its digest even when only part of it
// lands in this volume. The volume is `NAME.NNN.partial` until it is complete,
// fsynced and, when the volume list is known, equal to the sha256 it names.

export interface VolumeRemakeOptions {
  /** Every entry of the tar, in order (bundleEntries). */
  entries: readonly PlacedEntry[];
  mtime: Date;
  split: number;
  index: number;
  /** The volume file, NAME.NNN. */
  path: string;
  /** The sha256 (hex) the volume list gives this volume; checked before the file takes its name. */
  expectedSha256?: string;
  signal?: AbortSignal;
}

export interface RemadeVolume extends VolumeInfo {
  /** Volumes the whole tar makes at this split. */
  volumes: number;
}

/** Appends the part of `bytes` (which sit at tar offset `at`) that falls in [start, end). */
class RangeSink {
  written = 0;
  private readonly hash = createHash('sha256');
  private readonly handle: FileHandle;
  readonly start: number;
  readonly end: number;

  constructor(handle: FileHandle, start: number, end: number) {
    this.handle = handle;
    this.start = start;
    this.end = end;
  }

  overlaps(from: number, to: number): boolean {
    return from < this.end && to > this.start;
  }

  async put(bytes: Buffer, at: number): Promise<void> {
    const from = Math.max(this.start, at);
    const to = Math.min(this.end, at + bytes.length);
    if (from >= to) return;
    const part = bytes.subarray(from - at, to - at);
    this.hash.update(part);
    for (let done = 0; done < part.length; ) done += (await this.handle.write(part, done, part.length - done)).bytesWritten;
    this.written += part.length;
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

async function putEntry(sink: RangeSink, entry: PlacedEntry, at: number, mtime: Date, signal?: AbortSignal): Promise<void> {
  const size = 'bytes' in entry ? entry.bytes.length : entry.expected.size;
  await sink.put(ustarHeader(entry.name, size, mtime), at);
  const dataAt = at + TAR_BLOCK;
  if ('bytes' in entry) await sink.put(entry.bytes, dataAt);
  else if (sink.overlaps(dataAt, dataAt + size)) {
    let position = dataAt;
    // Read whole, verified whole: a blob that straddles the volume's edge is still proven.
    await pipeline(createReadStream(entry.file), verifyStream(entry.expected, entry.subject), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        await sink.put(chunk, position);
        position += chunk.length;
      }
    }, signal ? { signal } : {});
  }
  await sink.put(paddingFor(size), dataAt + size);
}

/** Writes volume `index` of the tar made of `entries`. */
export async function writeVolume(opts: VolumeRemakeOptions): Promise<RemadeVolume> {
  const offsets: number[] = [];
  let total = 0;
  for (const entry of opts.entries) {
    offsets.push(total);
    total += TAR_BLOCK + paddedSize('bytes' in entry ? entry.bytes.length : entry.expected.size);
  }
  const entriesEnd = total;
  total += END_OF_ARCHIVE_BYTES;
  const volumes = Math.ceil(total / opts.split);
  if (!Number.isSafeInteger(opts.index) || opts.index < 0 || opts.index >= volumes) {
    throw new UsageError(`the bundle has no volume ${opts.index}: it has ${volumes} (numbered 0 to ${volumes - 1})`);
  }
  const start = opts.index * opts.split;
  const end = Math.min(start + opts.split, total);
  const name = basename(opts.path);
  const temp = `${opts.path}.partial`;
  const handle = await open(temp, 'w', 0o644).catch((err: NodeJS.ErrnoException) => {
    throw outputError(err.code, opts.path) ?? new UsageError(`cannot write ${opts.path}: ${err.code === 'ENOENT' ? 'its directory does not exist' : err.message}`, { cause: err });
  });
  try {
    const sink = new RangeSink(handle, start, end);
    for (const [i, entry] of opts.entries.entries()) {
      const at = offsets[i] as number;
      const next = offsets[i + 1] ?? entriesEnd;
      if (at >= end) break;
      if (next <= start) continue;
      opts.signal?.throwIfAborted();
      await putEntry(sink, entry, at, opts.mtime, opts.signal);
    }
    await sink.put(Buffer.alloc(END_OF_ARCHIVE_BYTES), entriesEnd);
    await handle.sync();
    const sha256 = sink.sha256();
    if (opts.expectedSha256 !== undefined && sha256 !== opts.expectedSha256) {
      throw new IntegrityError(`re-made ${name} has sha256 ${sha256}, but the volume list says ${opts.expectedSha256}: the store no longer holds what the bundle was written from`, {
        code: ErrorCode.digestMismatch,
        subject: name,
        expected: opts.expectedSha256,
        actual: sha256,
        hint: 'export the whole bundle again (without --only-volume) and carry every volume',
      });
    }
    await handle.close();
    await rename(temp, opts.path);
    await syncDir(dirname(opts.path));
    return { name, size: sink.written, sha256, volumes };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw outputError((err as NodeJS.ErrnoException).code, opts.path) ?? err;
  }
}

export interface RemakeBundleVolumeOptions {
  /** Exactly the writer's inputs of the original export (see WriteBundleOptions). */
  images: readonly BundleImageInput[];
  /** Manifests and configs, read while the graph is walked. */
  fetch: FetchBlob;
  /** The local file holding each other blob (the store's): read, checked, copied where it overlaps. */
  localFile: (desc: Descriptor) => string;
  /** The base name of the volumes (the export's -o). */
  out: string;
  split: number;
  index: number;
  signingKey?: string;
  created?: Date;
  assumes?: readonly Descriptor[];
  toolVersion: string;
  /** The releases carried (`ferry/tool/…`); a file is read only when its entry overlaps the volume. */
  tools?: readonly ToolInput[];
  expectedSha256?: string;
  signal?: AbortSignal;
  /** Scratch space for index.db (default: the OS temp dir). */
  tempDir?: string;
}

/**
 * Re-makes one volume of a split bundle from the same inputs its writer had:
 * the head is built again (a few MB at most, in scratch space), then only the
 * volume's byte range is written. Resolves with the volume and the bundle id.
 */
export async function remakeBundleVolume(opts: RemakeBundleVolumeOptions): Promise<RemadeVolume & { bundleId: string }> {
  const key = opts.signingKey === undefined ? undefined : parsePrivateKey(opts.signingKey);
  const walk = await walkBundleGraph(opts.images, opts.fetch, opts.assumes, opts.signal);
  const created = resolveCreated(opts.created, walk.newestCreated);
  await makeOutputDir(opts.out);
  const work = await scratchDir('write', opts.tempDir);
  try {
    const head = await buildHead(walk, { created, toolVersion: opts.toolVersion, key, keyId: key ? keyIdOf(key) : null, ...(opts.tools ? { tools: opts.tools } : {}) }, work);
    const files = new Map(walk.graph.blobs.map((b) => [b.descriptor.digest as string, b.descriptor]));
    const entries = bundleEntries(head, walk, (digest) => opts.localFile(files.get(digest) as Descriptor), 'the store');
    const path = join(dirname(opts.out), volumeName(basename(opts.out), opts.index));
    const volume = await writeVolume({ entries, mtime: created, split: opts.split, index: opts.index, path, ...(opts.expectedSha256 ? { expectedSha256: opts.expectedSha256 } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    return { ...volume, bundleId: head.bundleJson.id };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
