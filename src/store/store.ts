import { resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import {
  ErrorCode,
  NotFoundError,
  validateRepository,
  type Descriptor,
  type Digest,
} from '../core/index.js';
import { BlobReader, type ReadRange } from './blob-reader.js';
import type { StoredBlob } from './db/blobs.js';
import type { StoredEdge, StoredManifest } from './db/manifests.js';
import type { BundleRecord, ExportRecord, ImportReceipt, ReceiptRecord } from './db/records.js';
import type { Page, PageOptions } from './db/repositories.js';
import type { BlobIngester, BlobProvider, ContentPins, GraphIndex, RepositoryCatalog, StoreHandle, StoreMaintenance, TransferRecords } from './faces.js';
import { ensureFormatVersion } from './format-version.js';
import { collectGarbage, type GcOptions, type GcReport } from './gc.js';
import { Ingester } from './ingester.js';
import { cleanIngests, type CleanIngestsOptions, type CleanIngestsReport } from './janitor.js';
import { defaultStoreDir, StoreLayout } from './layout.js';
import { pruneUntagged, type PruneOptions, type PruneReport } from './prune.js';
import { RefLocks } from './ref-locks.js';
import type { Clock, StoreContext } from './store-context.js';
import { StoreIndex } from './store-index.js';
import { StoreRepository } from './store-repository.js';
import { storeUsage, type UsageReport } from './usage.js';
import { verifyStore, type StoreVerifyReport, type VerifyOptions } from './verify.js';
import { resumeOffsetOf, writeBlob, type BlobSource, type WriteBlobOptions, type WriteResult } from './write-blob.js';

export interface OpenStoreOptions {
  /** No writes at all: no ingests, no touches, no GC (dry runs and reads only). */
  readOnly?: boolean;
  /** Create the store when the directory is new; default true unless read-only. */
  create?: boolean;
  /** Time source, for tests of the grace window and the janitor. Default Date.now. */
  clock?: Clock;
  /** A HEAD/exists refreshes touched_at at most this often; default 60 s (well inside GC's 10 min grace). */
  touchIntervalMs?: number;
}

/** Opens (creating if needed) the store at `dir`, default `defaultStoreDir()`. */
export async function openStore(dir: string = defaultStoreDir(), options: OpenStoreOptions = {}): Promise<Store> {
  const readOnly = options.readOnly ?? false;
  const layout = new StoreLayout(resolvePath(dir));
  await ensureFormatVersion(layout, { create: options.create ?? !readOnly });
  const index = new StoreIndex(layout.indexDb, { readOnly });
  return new Store({
    layout,
    index,
    readOnly,
    clock: options.clock ?? Date.now,
    locks: new RefLocks(),
    touchIntervalMs: options.touchIntervalMs ?? 60_000,
    openWriters: new Set(),
    commitWatchers: new Set(),
  });
}

/**
 * The deduplicating, content-addressed blob store with its SQLite index (design §3):
 * a Namespace of StoreRepository, plus blob reads, ingests, graph queries, GC, usage
 * and the records of past transfers. Create it with `openStore`.
 */
export class Store
  implements BlobProvider, BlobIngester, RepositoryCatalog, GraphIndex, ContentPins, StoreMaintenance, TransferRecords, StoreHandle
{
  readonly layout: StoreLayout;
  /** Open, resume, inspect and abort ingests (containerd's Ingester + IngestManager). */
  readonly ingests: Ingester;
  private readonly ctx: StoreContext;
  private readonly reader: BlobReader;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
    this.layout = ctx.layout;
    this.ingests = new Ingester(ctx);
    this.reader = new BlobReader(ctx);
  }

  /** The store's directory. */
  get dir(): string {
    return this.layout.root;
  }

  /** A repository by name (validated against the distribution grammar); created on first write. */
  repository(name: string): StoreRepository {
    return new StoreRepository(this.ctx, this.ingests, this.reader, name);
  }

  // --- blobs, whatever repository links them ---

  /** Is the blob committed? Partial ingests never count. */
  hasBlob(digest: Digest): boolean {
    return this.reader.has(digest);
  }

  /** Size and media type; NotFoundError when absent. */
  statBlob(digest: Digest): StoredBlob {
    return this.reader.stat(digest);
  }

  /** The committed file, for servers that stream it and answer Range themselves. */
  blobPath(digest: Digest): string {
    return this.reader.path(digest);
  }

  /** The blob's bytes, or a range of them (`end` inclusive); NotFoundError when absent. */
  openBlob(digest: Digest, range?: ReadRange): Promise<Readable> {
    return this.reader.open(digest, range);
  }

  /** Ingest + commit, resuming an interrupted write of the same ref; links nothing. */
  writeBlob(desc: Descriptor, source: BlobSource, options?: WriteBlobOptions): Promise<WriteResult> {
    return writeBlob(this.ctx, this.ingests, desc, source, options);
  }

  /** Bytes already held for an interrupted `writeBlob(desc)`: fetch from here with HTTP Range. A whole blob is settled first (see StoreRepository.resumeOffset). */
  async resumeOffset(desc: Descriptor, ref: string = desc.digest): Promise<number> {
    return resumeOffsetOf(this.ctx, this.ingests, desc, { ref });
  }

  /** Hears each blob this handle commits from bytes it hashed itself (see BlobIngester). */
  watchCommits(listener: (digest: Digest) => void): () => void {
    this.ctx.commitWatchers.add(listener);
    return () => void this.ctx.commitWatchers.delete(listener);
  }

  // --- the graph ---

  /** The manifest row of `digest`, if it is a stored manifest. */
  manifest(digest: Digest): StoredManifest | undefined {
    return this.ctx.index.manifests.get(digest);
  }

  /** Edges out of a stored manifest: config, layers or child manifests in order, then its subject. */
  edges(digest: Digest): StoredEdge[] {
    return this.ctx.index.manifests.edgesOf(digest);
  }

  /** URLs that stored manifests gave for a foreign layer. */
  foreignUrls(digest: Digest): string[] {
    return this.ctx.index.manifests.foreignUrls(digest);
  }

  /** Repositories that link `digest`, sorted. */
  linkedIn(digest: Digest): string[] {
    return this.ctx.index.repos.linkedIn(digest);
  }

  /** One repository other than `except` that links `digest`, or undefined (linkedIn's list grows with the repositories sharing a layer). */
  linkingRepository(digest: Digest, except?: string): string | undefined {
    return this.ctx.index.repos.linkingRepository(digest, except);
  }

  /** Keeps an untagged manifest (and all under it) through GC and prune, or stops keeping it. */
  keep(digest: Digest, keep = true): void {
    if (!this.ctx.index.manifests.setKeep(digest, keep)) {
      throw new NotFoundError(`manifest ${digest} is not in the store`, { code: ErrorCode.manifestUnknown });
    }
  }

  /** Pins blobs for `owner` (a copy or upload session in progress): GC keeps them and all under them. */
  pin(owner: string, digests: readonly Digest[]): void {
    this.ctx.index.immediate(() => {
      const now = this.ctx.clock();
      for (const d of digests) this.ctx.index.ingests.pin(owner, d, now);
    });
  }

  /** Drops every pin of `owner`. */
  unpin(owner: string): number {
    return this.ctx.index.ingests.unpin(owner);
  }

  // --- listings ---

  /** Repositories that link anything, sorted lexically, paginated. */
  listRepositories(options?: PageOptions): Page<string> {
    return this.ctx.index.repos.listRepositories(options);
  }

  /** Tags of a repository, sorted lexically, paginated; NotFoundError (ERR_NAME_UNKNOWN) for an unknown repository. */
  listTags(repository: string, options?: PageOptions): Page<string> {
    const id = this.ctx.index.repos.id(validateRepository(repository));
    if (id === undefined) throw new NotFoundError(`repository ${repository} is not in the store`, { code: ErrorCode.nameUnknown });
    return this.ctx.index.repos.listTags(id, options);
  }

  // --- looking after the store ---

  /** Ingest janitor, then mark and sweep; safe while another process pushes into the store. */
  gc(options?: GcOptions): Promise<GcReport> {
    return collectGarbage(this.ctx, this.ingests, options);
  }

  /** Deletes manifests no tag reaches (and not kept); the next GC frees their bytes. */
  pruneUntagged(options?: PruneOptions): Promise<PruneReport> {
    return pruneUntagged(this.ctx, options);
  }

  /** Total, unique and shared bytes per repository and image. */
  usage(): UsageReport {
    return storeUsage(this.ctx);
  }

  /** Re-hashes every blob on every core, checks every tag reaches complete content, sorts the ingests; `repair` drops what is corrupt. */
  verify(options?: VerifyOptions): Promise<StoreVerifyReport> {
    return verifyStore(this.ctx, this.ingests, options);
  }

  /** Removes stale ingests nobody is writing (default: untouched for 24 hours). */
  cleanIngests(options?: CleanIngestsOptions): Promise<CleanIngestsReport> {
    return cleanIngests(this.ctx, this.ingests, options);
  }

  // --- records of transfers ---

  /** Remembers that `source` (a reference) was exported as `desc`. */
  recordExport(source: string, desc: Pick<Descriptor, 'digest' | 'mediaType'>): void {
    this.ctx.index.records.recordExport(source, desc.digest, desc.mediaType, this.ctx.clock());
  }

  exports(): ExportRecord[] {
    return this.ctx.index.records.exports();
  }

  /** Remembers what an import left on a target (for delta exports later). */
  recordReceipt(receipt: ImportReceipt): void {
    this.ctx.index.records.recordReceipt(receipt, this.ctx.clock());
  }

  /** Blobs a target registry (optionally one repository) is known to hold. */
  heldBlobs(registry: string, repository?: string): Digest[] {
    return this.ctx.index.records.heldBlobs(registry, repository);
  }

  /** What imports tagged on a target registry (optionally one repository), oldest first: what `ferry prune` starts from. */
  receipts(registry: string, repository?: string): ReceiptRecord[] {
    return this.ctx.index.records.receipts(registry, repository);
  }

  recordBundle(record: Omit<BundleRecord, 'at'> & { at?: number }): void {
    this.ctx.index.records.recordBundle({ ...record, at: record.at ?? this.ctx.clock() });
  }

  bundles(): BundleRecord[] {
    return this.ctx.index.records.bundles();
  }

  /** Closes open ingest writers (their partials stay, resumable) and the index. */
  async close(): Promise<void> {
    await Promise.all([...this.ctx.openWriters].map((w) => w.close()));
    this.ctx.index.close();
  }
}
