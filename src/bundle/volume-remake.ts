import { rm } from 'node:fs/promises';
import type { Descriptor } from '../core/descriptor.js';
import { ErrorCode, IntegrityError, UsageError } from '../core/errors.js';
import { buildHead, bundleEntries } from './bundle-head.js';
import { resolveCreated } from './bundle-json-build.js';
import { walkBundleGraph, type BundleImageInput, type FetchBlob } from './graph-walk.js';
import { makeOutputDir, outputError } from './output-errors.js';
import { scratchDir } from './scratch-dir.js';
import { keyIdOf, parsePrivateKey } from './sign.js';
import { placeTar, tarLayout, type PlacedEntry } from './placed-writer.js';
import type { ToolInput } from './tool-entries.js';
import type { VolumeInfo } from './volume-sidecar.js';
import { TarFiles } from './volume-split.js';

// One volume of a split bundle, written alone (`ferry export … --only-volume N`).
// The tar is deterministic (design §4), so each entry's offset follows from the
// entry list: only the entries that overlap bytes [N·split, (N+1)·split) are
// read, and only those bytes are written, by the writer's own serialiser
// (placed-writer.ts) with a window. A file entry (a store blob, index.db) is
// read whole and checked against its digest even when only part of it lands
// in this volume. The volume is `NAME.NNN.partial` until it is complete,
// fsynced and, when the volume list is known, equal to the sha256 it names.

export interface VolumeRemakeOptions {
  /** Every entry of the tar, in order (bundleEntries). */
  entries: readonly PlacedEntry[];
  mtime: Date;
  split: number;
  index: number;
  /** The base name of the volumes (NAME of NAME.NNN). */
  out: string;
  /** The sha256 (hex) the volume list gives this volume; checked before the file takes its name. */
  expectedSha256?: string;
  signal?: AbortSignal;
}

export interface RemadeVolume extends VolumeInfo {
  /** Volumes the whole tar makes at this split. */
  volumes: number;
}

/** Writes volume `index` of the tar made of `entries`. */
export async function writeVolume(opts: VolumeRemakeOptions): Promise<RemadeVolume> {
  const total = tarLayout(opts.entries).size;
  const volumes = Math.ceil(total / opts.split);
  if (!Number.isSafeInteger(opts.index) || opts.index < 0 || opts.index >= volumes) {
    throw new UsageError(`the bundle has no volume ${opts.index}: it has ${volumes} (numbered 0 to ${volumes - 1})`);
  }
  const start = opts.index * opts.split;
  const window = { start, end: Math.min(start + opts.split, total) };
  const files = await TarFiles.open({ path: opts.out, split: opts.split, window, inOrder: true }).catch((err: NodeJS.ErrnoException) => {
    throw outputError(err.code, opts.out) ?? err;
  });
  try {
    await placeTar(opts.entries, { mtime: opts.mtime, files, ...(opts.signal ? { signal: opts.signal } : {}) });
    const [volume] = await files.finish();
    const { name, size, sha256 } = volume as VolumeInfo;
    if (opts.expectedSha256 !== undefined && sha256 !== opts.expectedSha256) {
      throw new IntegrityError(`re-made ${name} has sha256 ${sha256}, but the volume list says ${opts.expectedSha256}: the store no longer holds what the bundle was written from`, {
        code: ErrorCode.digestMismatch,
        subject: name,
        expected: opts.expectedSha256,
        actual: sha256,
        hint: 'export the whole bundle again (without --only-volume) and carry every volume',
      });
    }
    await files.commit();
    return { name, size, sha256, volumes };
  } catch (err) {
    await files.abort();
    throw outputError((err as NodeJS.ErrnoException).code, files.partialPath) ?? err;
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
  const walk = await walkBundleGraph(opts.images, { fetch: opts.fetch, localFile: opts.localFile }, opts.assumes, opts.signal);
  const created = resolveCreated(opts.created, walk.newestCreated);
  await makeOutputDir(opts.out);
  const work = await scratchDir('write', opts.tempDir);
  try {
    const head = await buildHead(walk, { created, toolVersion: opts.toolVersion, key, keyId: key ? keyIdOf(key) : null, ...(opts.tools ? { tools: opts.tools } : {}) }, work);
    const entries = bundleEntries(head, walk, { localFile: opts.localFile, from: 'the store' });
    const volume = await writeVolume({ entries, mtime: created, split: opts.split, index: opts.index, out: opts.out, ...(opts.expectedSha256 ? { expectedSha256: opts.expectedSha256 } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    return { ...volume, bundleId: head.bundleJson.id };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
