import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError, UsageError } from '../core/errors.js';
import { iterateBlobs, type BundleBlob } from './blob-iterator.js';
import { openBundleSource, type BundleInput, type BundleSource } from './bundle-source.js';
import { BundleEntry, type BundleJson } from './format.js';
import { readBundleHead, type BundleHead, type HeadOptions } from './head-reader.js';
import { scratchDir } from './scratch-dir.js';
import type { OciIndexJson } from './index-json.js';
import type { DbBlob, ManifestDb } from './manifest-db.js';
import type { SignatureState } from './signature-check.js';
import { HeadTarReader } from './head-tar.js';
import { locateBlobs, type BlobRange } from './blob-locate.js';
import type { TarReader } from './tar-reader.js';
import type { TarSpan } from './tar-span.js';
import type { VolumeSidecar } from './volume-sidecar.js';

// openBundle: one pass over the tar. It reads the head (verifying the chain of
// trust) and stops before the first blob; blobs() continues the same pass. The
// head is read by head-tar.ts and the blobs by tar-stream (tar-reader.ts),
// loaded only then: inspect never loads it. A failure is re-examined at
// volume level, so a damaged stick is named as such.

export interface OpenBundleOptions extends HeadOptions {
  /** Where a large index.db is spooled (default: the OS temp dir); removed by close(). */
  tempDir?: string;
  /** Stat every volume before reading (default true); inspect turns it off. */
  checkVolumes?: boolean;
}

/** An opened bundle: its verified head, then its blobs in one pass. Get one from `openBundle`. */
export class Bundle {
  /** The path (or stream name) read. */
  readonly source: string;
  readonly bundleJson: BundleJson;
  /** A signature is present (see `signature` for whether it was checked). */
  readonly signed: boolean;
  readonly signature: SignatureState;
  /** The signer's key id, or null when unsigned. */
  readonly keyId: string | null;
  readonly index: OciIndexJson;
  readonly db: ManifestDb;
  /** Carried blob digests, tar order. */
  readonly sums: readonly Digest[];
  /** For a split bundle: the volume list, and whether its own signature was checked. */
  readonly volumes: { sidecar: VolumeSidecar; signature: SignatureState } | undefined;
  /** Where the tar lies on disk: a bundle file, or a set's volumes end to end (undefined for a stream). */
  readonly tarSpan: TarSpan | undefined;
  /** Bytes of tar before the first blob. */
  readonly headBytes: number;
  private readonly input: BundleSource;
  private readonly headTar: HeadTarReader;
  /** The blob reader, from blobs() on. */
  private tar: TarReader | undefined;
  private readonly head: BundleHead;
  /** The spool directory, made only if index.db was too large to open from memory. */
  private readonly spoolDir: Promise<string> | undefined;
  private started = false;
  private closed = false;
  /** locate()'s answer, once asked; explain() names the volumes of a blob read by its range from it. */
  private located: Promise<BlobRange[] | undefined> | undefined;

  constructor(input: BundleSource, headTar: HeadTarReader, head: BundleHead, spoolDir: Promise<string> | undefined) {
    this.input = input;
    this.headTar = headTar;
    this.head = head;
    this.spoolDir = spoolDir;
    this.source = input.name;
    this.bundleJson = head.bundleJson;
    this.signature = head.signature;
    this.signed = head.signature !== 'none';
    this.keyId = head.keyId;
    this.index = head.index;
    this.db = head.db;
    this.sums = head.sums;
    this.headBytes = head.headBytes;
    this.volumes = input.volumes ? { sidecar: input.volumes.sidecar, signature: input.volumes.signature } : undefined;
    this.tarSpan = input.tarSpan;
  }

  /**
   * Where each carried blob lies in the tar on disk (bundle/blob-locate.ts), asked once: undefined for a
   * stream, or a tar not laid out as ferry writes it (then read `blobs()`).
   */
  locate(): Promise<BlobRange[] | undefined> {
    const span = this.tarSpan;
    this.located ??= Promise.resolve(span && locateBlobs(span, this));
    return this.located;
  }

  /** The blob entries, in tar order, each verified while read. Call once. */
  async *blobs(): AsyncGenerator<BundleBlob> {
    if (this.started) throw new UsageError('bundle blobs can be read only once: open the bundle again');
    this.started = true;
    const expected = new Map<Digest, DbBlob>(this.db.blobs().map((b) => [b.descriptor.digest, b]));
    try {
      const { TarReader } = await import('./tar-reader.js');
      this.tar = new TarReader(this.headTar.rest(), this.source, BundleEntry.sums);
      yield* iterateBlobs(this.tar, this.head.policy, expected, this.bundleJson.releases);
    } catch (err) {
      throw await explain(this.input, err);
    }
  }

  /** Bytes read from the file(s) so far (includes read-ahead). */
  bytesRead(): number {
    return this.input.bytesRead();
  }

  /**
   * For a consumer whose copy of a blob stream failed: the volume-level error
   * when a damaged or swapped volume explains it, else `err` unchanged.
   */
  async explain(err: unknown): Promise<unknown> {
    // A blob read by its range: the volumes that hold it are the ones to check, not the one the head came from.
    const subject = err instanceof IntegrityError ? err.subject : undefined;
    // Already named at volume level (a pusher explained it before the pass did).
    if (subject && this.volumes?.sidecar.volumes.some((v) => v.name === subject)) return err;
    const range = subject && this.volumes && this.located ? (await this.located)?.find((r) => r.entry === subject) : undefined;
    return explain(this.input, err, range && { start: range.start, end: range.start + range.blob.descriptor.size });
  }

  /** Stops reading, closes index.db and removes the spool directory, if any. Always call it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tar?.close();
    await this.headTar.close();
    this.db.close();
    if (this.spoolDir) await rm(await this.spoolDir, { recursive: true, force: true });
  }
}

/**
 * A failure that damaged bytes could explain is re-examined at volume level
 * (finishing the current volume's hash), so the error names the bad stick.
 * Not for a wrong key or a missing signature: no volume is to blame.
 */
async function explain(source: BundleSource, err: unknown, span?: { start: number; end: number }): Promise<unknown> {
  if (!(err instanceof IntegrityError) || err.code === ErrorCode.signatureMissing) return err;
  if (err.code === ErrorCode.signatureInvalid && err.expected !== undefined) return err;
  return (await source.diagnose(span)) ?? err;
}

export async function openBundle(input: BundleInput, opts: OpenBundleOptions = {}): Promise<Bundle> {
  const source = await openBundleSource(input, opts);
  // Made only for an index.db too large to open from memory: a small head writes no file.
  let spoolDir: Promise<string> | undefined;
  const tar = new HeadTarReader(source.chunks?.() ?? source.stream(), source.name);
  try {
    const head = await readBundleHead(tar, opts, () => (spoolDir ??= scratchDir('bundle', opts.tempDir))).catch(async (err: unknown) => {
      throw await explain(source, err);
    });
    const sidecar = source.volumes?.sidecar;
    if (sidecar && sidecar.bundle.id !== head.bundleJson.id) {
      head.db.close();
      throw new IntegrityError(`${basename(source.name)} lists volumes of bundle ${sidecar.bundle.id}, but they hold bundle ${head.bundleJson.id}`, {
        code: ErrorCode.bundleInvalid,
        subject: basename(source.name),
      });
    }
    return new Bundle(source, tar, head, spoolDir);
  } catch (err) {
    await tar.close();
    await spoolDir?.then((dir) => rm(dir, { recursive: true, force: true }), () => undefined);
    throw err;
  }
}
