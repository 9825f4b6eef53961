import type { Readable } from 'node:stream';
import type { Descriptor, Digest, Namespace } from '../core/index.js';
import type { ReadRange } from './blob-reader.js';
import type { StoredBlob } from './db/blobs.js';
import type { StoredEdge, StoredManifest } from './db/manifests.js';
import type { BundleRecord, ExportRecord, ImportReceipt, ReceiptRecord } from './db/records.js';
import type { Page, PageOptions } from './db/repositories.js';
import type { GcOptions, GcReport } from './gc.js';
import type { Ingester } from './ingester.js';
import type { CleanIngestsOptions, CleanIngestsReport } from './janitor.js';
import type { PruneOptions, PruneReport } from './prune.js';
import type { StoreRepository } from './store-repository.js';
import type { UsageReport } from './usage.js';
import type { StoreVerifyReport, VerifyOptions } from './verify.js';
import type { BlobSource, WriteBlobOptions, WriteResult } from './write-blob.js';

// The store's faces: what a caller may do with it, split by capability the way
// containerd splits Provider / Ingester / IngestManager / Manager
// (core/content/content.go). `Store` implements them all; everything outside
// src/store and src/cli takes the narrowest face (or intersection) it needs, so
// what a module can do to the store is read off its signature.

/** Reading committed blobs by digest, whatever repository links them (containerd Provider + Info). */
export interface BlobProvider {
  /** Is the blob committed? Partial ingests never count. */
  hasBlob(digest: Digest): boolean;
  /** Size and media type; NotFoundError when absent. */
  statBlob(digest: Digest): StoredBlob;
  /** The committed file, for servers that stream it and answer Range themselves. */
  blobPath(digest: Digest): string;
  /** The blob's bytes, or a range of them (`end` inclusive); NotFoundError when absent. */
  openBlob(digest: Digest, range?: ReadRange): Promise<Readable>;
}

/** Writing blobs that no repository links yet (containerd Ingester + IngestManager). */
export interface BlobIngester {
  /** Open, resume, inspect and abort ingests. */
  readonly ingests: Ingester;
  /** Ingest + commit, resuming an interrupted write of the same ref; links nothing. */
  writeBlob(desc: Descriptor, source: BlobSource, options?: WriteBlobOptions): Promise<WriteResult>;
  /** Bytes already held for an interrupted `writeBlob(desc)`. */
  resumeOffset(desc: Descriptor, ref?: string): Promise<number>;
  /**
   * Hears each blob this handle commits from bytes it hashed as they came in (not one
   * found already there), once its row is in; returns the way to stop hearing.
   */
  watchCommits(listener: (digest: Digest) => void): () => void;
}

/** Repositories by name, their tags and the listings a registry serves. */
export interface RepositoryCatalog extends Namespace<StoreRepository> {
  /** A repository by name (validated against the distribution grammar); created on first write. */
  repository(name: string): StoreRepository;
  /** Repositories that link anything, sorted lexically, paginated. */
  listRepositories(options?: PageOptions): Page<string>;
  /** Tags of a repository, sorted, paginated; NotFoundError for an unknown repository. */
  listTags(repository: string, options?: PageOptions): Page<string>;
}

/** Queries over the stored manifest graph. */
export interface GraphIndex {
  manifest(digest: Digest): StoredManifest | undefined;
  edges(digest: Digest): StoredEdge[];
  foreignUrls(digest: Digest): string[];
  /** Repositories that link `digest`, sorted. */
  linkedIn(digest: Digest): string[];
  /** One repository other than `except` that links `digest`, or undefined. */
  linkingRepository(digest: Digest, except?: string): string | undefined;
}

/** Holding content against GC and prune: kept manifests and owner pins (containerd leases). */
export interface ContentPins {
  keep(digest: Digest, keep?: boolean): void;
  pin(owner: string, digests: readonly Digest[]): void;
  unpin(owner: string): number;
}

/** Looking after the store (containerd Manager): GC, prune, usage, verify, janitor. */
export interface StoreMaintenance {
  gc(options?: GcOptions): Promise<GcReport>;
  pruneUntagged(options?: PruneOptions): Promise<PruneReport>;
  usage(): UsageReport;
  verify(options?: VerifyOptions): Promise<StoreVerifyReport>;
  cleanIngests(options?: CleanIngestsOptions): Promise<CleanIngestsReport>;
}

/** What past exports, imports and bundles left behind (delta exports, `ferry prune`). */
export interface TransferRecords {
  recordExport(source: string, desc: Pick<Descriptor, 'digest' | 'mediaType'>): void;
  exports(): ExportRecord[];
  recordReceipt(receipt: ImportReceipt): void;
  heldBlobs(registry: string, repository?: string): Digest[];
  receipts(registry: string, repository?: string): ReceiptRecord[];
  recordBundle(record: Omit<BundleRecord, 'at'> & { at?: number }): void;
  bundles(): BundleRecord[];
}

/** The open store itself: where it lives, and closing it (only its opener calls close). */
export interface StoreHandle {
  readonly dir: string;
  close(): Promise<void>;
}
