import { createReadStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { UsageError } from '../core/errors.js';
import { verifyStream } from '../core/hashing.js';
import { resolveCreated } from './bundle-json-build.js';
import { BundleEntry, blobEntryName, type BundleJson } from './format.js';
import { walkBundleGraph, type BundleImageInput, type FetchBlob, type WalkResult } from './graph-walk.js';
import type { EventSink } from '../core/progress-events.js';
import { keyIdOf, parsePrivateKey, sign } from './sign.js';
import type { KeyObject } from 'node:crypto';
import { MAX_VOLUMES, MIN_SPLIT_BYTES } from './split-size.js';
import { ByteTap } from '../core/byte-tap.js';
import { entryHeader, writeEntry } from './tar-writer.js';
import { serializeSidecar, sidecarPathFor, VOLUMES_FORMAT, type VolumeInfo } from './volume-sidecar.js';
import { HashThread } from './offthread-hash.js';
import { BundleOutput, syncDir } from './volume-split.js';
import { canPlaceAt, maxFileSize } from './output-fs.js';
import { PlacedBundle } from './placed-writer.js';
import { buildHead, bundleEntries, headTarBytes, type BundleHead } from './bundle-head.js';
import { makeOutputDir, outputError } from './output-errors.js';
import { scratchDir } from './scratch-dir.js';
import { checkToolNames, checkToolsFitVolumeZero, type ToolInput } from './tool-entries.js';

// writeBundle: walk the graph, build the head (index.json, index.db,
// SHA256SUMS, then bundle.json over their digests, then its signature), and
// write one deterministic tar — head first, then every blob once, each
// verified against its digest on the way. Two ways to the same bytes: a single
// file whose blobs sit in local files (the store) is placed by every core at
// once (placed-writer.ts); volumes, and blobs that only stream, go through
// tar-stream, piped from the source through a verifying stream into each entry
// while the whole tar is hashed for the volume list. Output goes to .partial
// files renamed into place at the end; volumes get a signed sidecar.

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
   * core at once instead of streamed from `fetch` (each still verified).
   */
  localFile?: (desc: Descriptor) => string | undefined;
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
}

async function writeBlobs(pack: Pack, walk: WalkResult, fetch: FetchBlob, mtime: Date, opts: WriteBundleOptions): Promise<void> {
  for (const blob of walk.graph.blobs) {
    if (!blob.included) continue;
    const desc = blob.descriptor;
    opts.signal?.throwIfAborted();
    const held = walk.metadata.get(desc.digest);
    const source: Readable | Buffer = held ?? (await fetch(desc));
    const through: Transform[] = [verifyStream(desc, `blob ${desc.digest} from the source`)];
    const { onEvent } = opts;
    if (onEvent) through.push(new ByteTap((n) => onEvent({ type: 'bytes', descriptor: desc, bytes: n })));
    await writeEntry(pack, entryHeader(blobEntryName(desc.digest), desc.size, mtime), source, through, opts.signal);
  }
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

  const walk = await walkBundleGraph(opts.images, fetch, opts.assumes, opts.signal);
  const included = walk.graph.blobs.filter((b) => b.included);
  const carried = included.reduce((n, b) => n + b.descriptor.size, tools.reduce((n, t) => n + t.size, 0));
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
  let placed: Awaited<ReturnType<typeof placedOutput>>;
  try {
    // Its threads boot while index.db is built.
    placed = await placedOutput(opts, walk);
    const head = await buildHead(walk, { created, toolVersion: opts.toolVersion, key, keyId, tools }, work);
    const { bundleJson } = head;
    checkToolsFitVolumeZero(headTarBytes(head), tools, opts.split);
    if (placed) return await writePlaced(placed.bundle, placed.files, head, walk, created, opts, { bundleJson, keyId });
    return await writeStreamed(head, walk, fetch, created, opts, key, { bundleJson, keyId });
  } catch (err) {
    await placed?.bundle.abort();
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A single-file bundle whose blobs are all in local files (or held in memory)
 * on a file system that takes out-of-order writes: placed by every core at
 * once (placed-writer.ts). Otherwise undefined, and the tar is streamed.
 */
async function placedOutput(opts: WriteBundleOptions, walk: WalkResult): Promise<{ bundle: PlacedBundle; files: Map<Digest, string> } | undefined> {
  if (opts.split !== undefined || !opts.localFile || !(await canPlaceAt(opts.out))) return undefined;
  const files = new Map<Digest, string>();
  for (const blob of walk.graph.blobs) {
    if (!blob.included || walk.metadata.has(blob.descriptor.digest)) continue;
    const file = opts.localFile(blob.descriptor);
    if (file === undefined) return undefined;
    files.set(blob.descriptor.digest, file);
  }
  const { onEvent } = opts;
  return { bundle: await PlacedBundle.create(opts.out, onEvent), files };
}

async function writePlaced(
  placed: PlacedBundle,
  files: Map<Digest, string>,
  head: BundleHead,
  walk: WalkResult,
  created: Date,
  opts: WriteBundleOptions,
  result: Pick<WriteBundleResult, 'bundleJson' | 'keyId'>,
): Promise<WriteBundleResult> {
  const entries = bundleEntries(head, walk, (digest) => files.get(digest) as string);
  const bytes = await placed.write(entries, created, undefined, opts.signal);
  return { ...result, files: [opts.out], bytes, sha256: undefined };
}

async function writeStreamed(
  head: BundleHead,
  walk: WalkResult,
  fetch: FetchBlob,
  created: Date,
  opts: WriteBundleOptions,
  key: KeyObject | undefined,
  partial: Pick<WriteBundleResult, 'bundleJson' | 'keyId'>,
): Promise<WriteBundleResult> {
  // The whole tar's sha256 runs on this thread, beside the copy (see offthread-hash.ts).
  const hashes = new HashThread();
  const output = new BundleOutput(opts.out, opts.split, hashes);
  try {
    // Loaded here: a placed write (the common case) never needs tar-stream (~10 ms of start-up).
    const { pack: tarPack } = await import('tar-stream');
    const pack = tarPack();
    const writing = pipeline(pack, output).then(
      () => undefined,
      (err: unknown) => err,
    );
    try {
      const entry = (name: string, bytes: Buffer) => writeEntry(pack, entryHeader(name, bytes.length, created), bytes);
      for (const [name, bytes] of head.before) await entry(name, bytes);
      // Our own file, but streamed and re-verified: it must be the bytes bundle.json names.
      await writeEntry(pack, entryHeader(BundleEntry.indexDb, head.indexDb.size, created), createReadStream(head.indexDb.path), [verifyStream(head.indexDb, BundleEntry.indexDb)]);
      for (const [name, bytes] of head.after) await entry(name, bytes);
      // Carried releases count toward the write phase's total, as blobs do.
      const { onEvent } = opts;
      const tap = (): Transform[] => (onEvent ? [new ByteTap((n) => onEvent({ type: 'bytes', bytes: n }))] : []);
      for (const t of head.tools) await writeEntry(pack, entryHeader(t.entry, t.size, created), createReadStream(t.path), [verifyStream(t, t.entry), ...tap()]);
      await writeBlobs(pack, walk, fetch, created, opts);
      pack.finalize();
    } catch (err) {
      pack.destroy(err instanceof Error ? err : new Error(String(err)));
      await writing;
      throw err;
    }
    const failed = await writing;
    if (failed !== undefined) throw failed;

    const result: WriteBundleResult = { ...partial, files: [], bytes: output.bytes, sha256: output.sha256() };
    if (opts.split === undefined) {
      result.files = await output.commit();
      return result;
    }
    const { bundleJson } = partial;
    const sidecarPath = sidecarPathFor(opts.out);
    // An old volume list beside new volumes would make a half-finished set look complete.
    await rm(sidecarPath, { force: true });
    await rm(`${sidecarPath}.sig`, { force: true });
    result.files = await output.commit();
    result.volumes = output.volumes();
    const sidecar = serializeSidecar({
      format: VOLUMES_FORMAT,
      bundle: { format: bundleJson.format, id: bundleJson.id },
      created: bundleJson.created,
      split: opts.split,
      size: output.bytes,
      sha256: output.sha256(),
      signer: bundleJson.signer,
      volumes: result.volumes,
    });
    if (key) await writeAtomically(`${sidecarPath}.sig`, sign(sidecar, key));
    await writeAtomically(sidecarPath, sidecar);
    await syncDir(dirname(sidecarPath));
    result.sidecar = sidecarPath;
    return result;
  } catch (err) {
    await output.abort();
    throw outputError((err as NodeJS.ErrnoException).code, opts.out) ?? err;
  } finally {
    await hashes.close();
  }
}

async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  const temp = `${path}.partial`;
  await writeFile(temp, bytes, { mode: 0o644 });
  await rename(temp, path);
}
