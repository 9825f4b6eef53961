// src/store: the deduplicating, crash-safe, content-addressed blob store and its
// SQLite index (design §3). Imports core only. Open one with `openStore(dir)`.
export { openStore, Store, type OpenStoreOptions } from './store.js';
export type { BlobIngester, BlobProvider, ContentPins, GraphIndex, RepositoryCatalog, StoreHandle, StoreMaintenance, TransferRecords } from './faces.js';
export { StoreRepository, type StorePushOptions } from './store-repository.js';
export { defaultStoreDir, StoreLayout, type IngestPaths } from './layout.js';
export { STORE_FORMAT_VERSION } from './format-version.js';
export { SCHEMA_VERSION } from './db/migrations.js';
export type { Clock } from './store-context.js';
export { Ingester, type IngestStatus, type OpenIngestOptions } from './ingester.js';
export { IngestWriter, type CommitOptions, type CommitResult, type IngestExpectation } from './ingest-writer.js';
export type { BlobSource, WriteBlobOptions, WriteResult } from './write-blob.js';
export type { ReadRange } from './blob-reader.js';
export type { StoredBlob } from './db/blobs.js';
export type { ManifestRecord, StoredEdge, StoredManifest } from './db/manifests.js';
export type { Page, PageOptions } from './db/repositories.js';
export type { BundleRecord, ExportRecord, ImportReceipt, ReceiptRecord } from './db/records.js';
export { DEFAULT_GC_GRACE_MS, type GcOptions, type GcReport, type SweptBlob } from './gc.js';
export type { PruneOptions, PruneReport, PrunedManifest } from './prune.js';
export { DEFAULT_INGEST_TTL_MS, type CleanIngestsOptions, type CleanIngestsReport } from './janitor.js';
export type { ImageUsage, RepositoryUsage, UsageReport } from './usage.js';
export type { BlobProblem, CorruptBlob, StoreVerifyReport, VerifyOptions } from './verify.js';
export type { IncompleteTag } from './verify-graph.js';
