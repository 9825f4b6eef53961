import type { KeyObject } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { UsageError } from '../core/errors.js';
import type { EventSink } from '../core/progress-events.js';
import { buildHead, bundleEntries, headTarBytes } from './bundle-head.js';
import { resolveCreated } from './bundle-json-build.js';
import type { BundleJson } from './format.js';
import { walkBundleGraph, type BundleImageInput, type FetchBlob, type LocalFile, type WalkResult } from './graph-walk.js';
import { HashThread } from './offthread-hash.js';
import { canPlaceAt, maxFileSize } from './output-fs.js';
import { placeTar, tarLayout } from './placed-writer.js';
import { RangePool } from './range-pool.js';
import { keyIdOf, parsePrivateKey, sign } from './sign.js';
import { MAX_VOLUMES, MIN_SPLIT_BYTES } from './split-size.js';
import { serializeSidecar, sidecarPathFor, VOLUMES_FORMAT, type VolumeInfo } from './volume-sidecar.js';
import { syncDir, TarFiles } from './volume-split.js';
import { makeOutputDir, outputError } from './output-errors.js';
import { scratchDir } from './scratch-dir.js';
import { checkToolNames, checkToolsFitVolumeZero, type ToolInput } from './tool-entries.js';

// writeBundle: walk the graph, build the head (index.json, index.db,
// SHA256SUMS, then bundle.json over their digests, then its signature), and
// write one deterministic tar — head first, then every blob once, each
// verified against its digest on the way (placed-writer.ts), into one file or
// volumes (volume-split.ts). Volumes are hashed in order, each and the whole
// tar (on another thread, offthread-hash.ts), for their signed list
// (NAME.volumes.json). Output goes to .partial files renamed into place at the end.

export interface WriteBundleOptions {
  images: readonly BundleImageInput[];
  /** Where bytes come from: the store, a registry, a test fixture. Manifests and configs are read once, capped. */
  fetch: FetchBlob | Pick<ContentSource, 'fetch'>;
  /** The bundle file, or with `split` the base name of its volumes. */
  out: string;
  /** Volume size in bytes (see parseSplitSize). */
  split?: number;
  /** Ed25519 private key PEM: signs bundle.json (and the volume list). */
  signingKey?: string;
  /** Bundle creation time and tar mtime; default: SOURCE_DATE_EPOCH, else the newest image config, else 1970. */
  created?: Date;
  /** Delta: blobs the target already holds; left out of the tar, named in bundle.json. */
  assumes?: readonly Descriptor[];
  toolVersion: string;
  /** The one progress channel: the write phase (its total known up front), then bytes as they land. */
  onEvent?: EventSink;
  signal?: AbortSignal;
  /** Scratch space for index.db (default: the OS temp dir). */
  tempDir?: string;
  /**
   * A local file holding a blob's bytes (the store's), or undefined. When every
   * carried blob has one, a single-file bundle is copied from them on every
   * core at once instead of streamed from `fetch` (each still verified); the
   * manifests and configs are read from theirs (WalkSources).
   */
  localFile?: LocalFile;
  /**
   * Whether this process hashed `localFile(desc)`'s bytes as it wrote them there (a blob
   * this export just pulled into the store): copied with its size checked, not hashed again.
   * Read back moments later they come from the page cache, the very bytes that were
   * hashed, so a second hash would find nothing the first did not. A blob that was in the
   * store before is hashed as it is copied: one that rotted there does not cross the gap.
   */
  hashedHere?: (desc: Descriptor) => boolean;
  /** ferry releases to carry as `ferry/tool/…` right after the head (in volume 0 of a split bundle). */
  tools?: readonly ToolInput[];
}

export interface WriteBundleResult {
  bundleJson: BundleJson;
  /** The bundle file, or its volumes in order. */
  files: string[];
  /** NAME.volumes.json for a split bundle. */
  sidecar?: string;
  volumes?: VolumeInfo[];
  /** Size of the whole tar, and its sha256 when it was streamed (always for volumes; the volume list carries it). */
  bytes: number;
  sha256: string | undefined;
  keyId: string | null;
  /** Carried blobs this process hashed as it wrote them into the store (`hashedHere`): the rest came from the store as it was. */
  hashedHere: number;
}

export async function writeBundle(opts: WriteBundleOptions): Promise<WriteBundleResult> {
  if (opts.images.length === 0) throw new UsageError('a bundle needs at least one image');
  if (!opts.toolVersion) throw new UsageError('toolVersion is required');
  if (opts.split !== undefined && (!Number.isSafeInteger(opts.split) || opts.split < MIN_SPLIT_BYTES)) {
    throw new UsageError(`split size ${opts.split} is too small: volumes must be at least ${MIN_SPLIT_BYTES} bytes`);
  }
  const tools = opts.tools ?? [];
  checkToolNames(tools);
  const key = opts.signingKey === undefined ? undefined : parsePrivateKey(opts.signingKey);
  const keyId = key ? keyIdOf(key) : null;
  const source = opts.fetch;
  const fetch: FetchBlob = typeof source === 'function' ? source : (d) => source.fetch(d);

  const walk = await walkBundleGraph(opts.images, { fetch, localFile: opts.localFile }, opts.assumes, opts.signal);
  const included = walk.graph.blobs.filter((b) => b.included);
  const toolBytes = tools.reduce((n, t) => n + t.size, 0);
  const carried = sizeOf(included) + toolBytes;
  opts.onEvent?.({ type: 'phase', phase: 'write', total: carried, items: included.length });
  const created = resolveCreated(opts.created, walk.newestCreated);
  // Said before a byte is written, not at volume 1001: the blobs alone already need this many.
  if (opts.split !== undefined && Math.ceil(carried / opts.split) > MAX_VOLUMES) {
    throw new UsageError(`--split ${opts.split} would need more than ${MAX_VOLUMES} volumes for ${carried} bytes of blobs`, { hint: `choose a --split of at least ${Math.ceil(carried / MAX_VOLUMES)} bytes` });
  }
  await makeOutputDir(opts.out);
  const fileLimit = opts.split === undefined ? await maxFileSize(opts.out) : undefined;
  if (fileLimit !== undefined && carried > fileLimit) {
    throw new UsageError(`${opts.out} is on a FAT file system, which holds at most ${fileLimit} bytes in one file, and the blobs alone are ${carried} bytes`, {
      hint: 'cut the bundle into volumes: --split fat32',
    });
  }
  const work = await scratchDir('write', opts.tempDir);
  const pooled = await copiesOnPool(opts, walk);
  // Bytes the copy hashes: the pool's threads are for those, not for the ones only counted.
  const toHash = included.filter((b) => !opts.hashedHere?.(b.descriptor));
  const hashedBytes = sizeOf(toHash) + toolBytes;
  // The size of the one blob piped, if any: every other blob stays on the pool's threads.
  const piped = pooled ? pipedSize(toHash, carried) : undefined;
  // In order: the whole tar's sha256 and each volume's; piped: the one large blob's.
  const hashes = !pooled || piped !== undefined ? new HashThread(HASH_RING) : undefined;
  const whole = pooled ? undefined : hashes?.open();
  let files: TarFiles | undefined;
  let pool: RangePool | undefined;
  try {
    files = await TarFiles.open({ path: opts.out, ...(opts.split !== undefined ? { split: opts.split } : {}), inOrder: !pooled, ...(whole && hashes ? { whole, thread: hashes } : {}) });
    // Its threads open the file just made, and boot while index.db is built.
    const placed = files;
    const onCopied: EventSink = (e) => {
      if (e.type === 'bytes') placed.wrote(e.bytes);
      opts.onEvent?.(e);
    };
    // Piped, this thread copies the large blob: the pool's threads are the other cores', and
    // there is no pool when nothing else is carried from a file (an image of one large layer).
    // Few bytes to hash, and this thread copies alone: a worker costs more to boot than it would hash (`bytes`).
    if (pooled && piped === undefined) pool = new RangePool({ output: files.partialPath, mainThread: true, bytes: hashedBytes, onEvent: onCopied });
    else if (piped !== undefined && carriesSmaller(walk, opts, piped)) pool = new RangePool({ output: files.partialPath, threads: Math.max(1, Math.min(availableParallelism(), 4) - 1), onEvent: onCopied });
    const head = await buildHead(walk, { created, toolVersion: opts.toolVersion, key, keyId, tools }, work);
    checkToolsFitVolumeZero(headTarBytes(head), tools, opts.split);
    const entries = bundleEntries(head, walk, { localFile: opts.localFile, fetch, hashedHere: opts.hashedHere });
    const size = tarLayout(entries).size;
    if (opts.split !== undefined && Math.ceil(size / opts.split) > MAX_VOLUMES) {
      throw new UsageError(`--split ${opts.split} would need more than ${MAX_VOLUMES} volumes`, { hint: 'choose a larger --split size' });
    }
    const { onEvent, signal } = opts;
    const pipe = piped !== undefined && hashes ? { pipe: { thread: hashes, minBytes: piped, onEvent: onCopied } } : {};
    await placeTar(entries, { mtime: created, files, ...(pool ? { pool } : {}), ...pipe, ...(onEvent ? { onEvent } : {}), ...(signal ? { signal } : {}) });
    const volumes = await files.finish();
    const result: WriteBundleResult = { bundleJson: head.bundleJson, keyId, files: [], bytes: size, sha256: await whole?.digest(), hashedHere: included.length - toHash.length };
    if (opts.split === undefined) {
      result.files = await files.commit();
      return result;
    }
    result.volumes = volumes;
    result.sidecar = await commitVolumes(files, head.bundleJson, { ...opts, split: opts.split }, key, result);
    result.files = volumes.map((v) => join(dirname(opts.out), v.name));
    return result;
  } catch (err) {
    await files?.abort();
    throw outputError((err as NodeJS.ErrnoException).code, opts.out) ?? err;
  } finally {
    void pool?.close();
    await hashes?.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Whether the blobs are copied by a RangePool on every core: when the bundle
 * is a single file whose blobs all sit in local files, on a file system that
 * keeps the gaps of out-of-order writes sparse. Otherwise the tar is written
 * in order on this thread. The pool pays: 300 MiB from a warm store (bench
 * write set), the two paired in one process each, 4 runs, load 13-14 on 2
 * cores: pool 0.77-0.91 s of CPU (user + sys), 2.7-4.0 s wall; in order
 * 1.39-1.66 s of CPU, 3.5-6.4 s wall (one read per byte either way; in order
 * adds the whole-tar sha256 and the stream machinery, on one core).
 */
async function copiesOnPool(opts: WriteBundleOptions, walk: WalkResult): Promise<boolean> {
  if (opts.split !== undefined || !opts.localFile || !(await canPlaceAt(opts.out))) return false;
  return walk.graph.blobs.every((b) => !b.included || walk.metadata.has(b.descriptor.digest) || opts.localFile?.(b.descriptor) !== undefined);
}

function sizeOf(blobs: ReadonlyArray<{ descriptor: Descriptor }>): number {
  return blobs.reduce((n, b) => n + b.descriptor.size, 0);
}

/** A blob at least this large, and more than half the bytes carried, is piped (pipedSize). */
const PIPE_MIN_BYTES = 64 << 20;
/**
 * Bytes handed to the hashing thread and not yet hashed: 8 pieces of 1 MiB (the piped blob's, or the tar's
 * written in order). Against 2 MiB, the full bench set with --split fat32, 3 pairs: the write 483-586 →
 * 576-673 MB/s (the copy waited on the hash for room every other piece).
 */
const HASH_RING = 8 << 20;

/**
 * The size of the blob that is most of the bundle, if one is: the pool would give it to one thread,
 * which reads, hashes and writes it in turn while the other cores run out of
 * blobs. It is copied by the calling thread and hashed by another at once
 * instead (piped-copy.ts). Smaller blobs are not worth the hashing thread's boot.
 */
function pipedSize(included: ReadonlyArray<{ descriptor: Descriptor }>, carried: number): number | undefined {
  return included.find((b) => b.descriptor.size >= PIPE_MIN_BYTES && b.descriptor.size * 2 > carried)?.descriptor.size;
}

/** Whether a tool, or a blob smaller than the piped one, is carried from a local file (for the pool beside it). */
function carriesSmaller(walk: WalkResult, opts: WriteBundleOptions, piped: number): boolean {
  if ((opts.tools?.length ?? 0) > 0) return true;
  return walk.graph.blobs.some((b) => b.included && !walk.metadata.has(b.descriptor.digest) && b.descriptor.size < piped && opts.localFile?.(b.descriptor) !== undefined);
}

/** Renames the volumes into place and writes their signed list (NAME.volumes.json), the list last. */
async function commitVolumes(files: TarFiles, bundleJson: BundleJson, opts: WriteBundleOptions & { split: number }, key: KeyObject | undefined, result: WriteBundleResult): Promise<string> {
  const sidecarPath = sidecarPathFor(opts.out);
  // An old volume list beside new volumes would make a half-finished set look complete.
  await rm(sidecarPath, { force: true });
  await rm(`${sidecarPath}.sig`, { force: true });
  await files.commit();
  await files.removeStaleVolumes();
  const sidecar = serializeSidecar({
    format: VOLUMES_FORMAT,
    bundle: { format: bundleJson.format, id: bundleJson.id },
    created: bundleJson.created,
    split: opts.split,
    size: result.bytes,
    sha256: result.sha256 as string,
    signer: bundleJson.signer,
    volumes: result.volumes as VolumeInfo[],
  });
  if (key) await writeAtomically(`${sidecarPath}.sig`, sign(sidecar, key));
  await writeAtomically(sidecarPath, sidecar);
  await syncDir(dirname(sidecarPath));
  return sidecarPath;
}

async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  const temp = `${path}.partial`;
  await writeFile(temp, bytes, { mode: 0o644 });
  await rename(temp, path);
}
