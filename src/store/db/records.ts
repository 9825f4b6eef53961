import type { Digest, MediaTypeName } from '../../core/index.js';
import type { Db } from './open.js';

/** An image the store pulled for an export: the source reference and what it resolved to. */
export interface ExportRecord {
  source: string;
  digest: Digest;
  mediaType: MediaTypeName | undefined;
  exportedAt: number;
}

/** What an import left on a target registry: the tag it set and the blobs the target now holds. */
export interface ImportReceipt {
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: Digest;
  /** Every blob (and manifest) the target is known to hold for this image. */
  blobs: readonly Digest[];
}

/** One row of the receipts table: an image an import tagged (or pushed) on a target. */
export interface ReceiptRecord {
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: Digest;
  importedAt: number;
}

/** A bundle written by export or read by import. */
export interface BundleRecord {
  id: string;
  direction: 'written' | 'imported';
  path: string;
  blobCount: number;
  bytes: number;
  /** Anything else worth keeping (bundle.json fields), stored as JSON. */
  info?: Record<string, unknown>;
  at: number;
}

/** The exports, receipts, receipt_blobs and bundles tables: the store's memory of past transfers. */
export class RecordRows {
  private readonly db: Db;
  private readonly exportStmt;
  private readonly exportsStmt;
  private readonly receiptStmt;
  private readonly receiptBlobStmt;
  private readonly heldStmt;
  private readonly receiptsStmt;
  private readonly heldInRepoStmt;
  private readonly bundleStmt;
  private readonly bundlesStmt;

  constructor(db: Db) {
    this.db = db;
    this.exportStmt = db.prepare<[string, string, string | null, number]>(
      'INSERT INTO exports (source, digest, media_type, exported_at) VALUES (?, ?, ?, ?)',
    );
    this.exportsStmt = db.prepare<[], { source: string; digest: string; media_type: string | null; exported_at: number }>(
      'SELECT source, digest, media_type, exported_at FROM exports ORDER BY exported_at, id',
    );
    this.receiptStmt = db.prepare<[string, string, string | null, string, number]>(
      'INSERT INTO receipts (registry, repository, tag, digest, imported_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.receiptBlobStmt = db.prepare<[string, string, string, number]>(
      `INSERT INTO receipt_blobs (registry, repository, digest, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(registry, repository, digest) DO UPDATE SET seen_at = excluded.seen_at`,
    );
    this.heldStmt = db.prepare<[string], { digest: string }>('SELECT DISTINCT digest FROM receipt_blobs WHERE registry = ? ORDER BY digest');
    this.receiptsStmt = db.prepare<[string, string | null, string | null], { registry: string; repository: string; tag: string | null; digest: string; imported_at: number }>(
      'SELECT registry, repository, tag, digest, imported_at FROM receipts WHERE registry = ? AND (? IS NULL OR repository = ?) ORDER BY imported_at, id',
    );
    this.heldInRepoStmt = db.prepare<[string, string], { digest: string }>(
      'SELECT digest FROM receipt_blobs WHERE registry = ? AND repository = ? ORDER BY digest',
    );
    this.bundleStmt = db.prepare<[string, string, string, number, number, string | null, number]>(
      'INSERT OR REPLACE INTO bundles (id, direction, path, blob_count, bytes, info, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.bundlesStmt = db.prepare<[], { id: string; direction: 'written' | 'imported'; path: string; blob_count: number; bytes: number; info: string | null; at: number }>(
      'SELECT id, direction, path, blob_count, bytes, info, at FROM bundles ORDER BY at, id',
    );
  }

  recordExport(source: string, digest: Digest, mediaType: MediaTypeName | undefined, now: number): void {
    this.exportStmt.run(source, digest, mediaType ?? null, now);
  }

  exports(): ExportRecord[] {
    return this.exportsStmt.all().map((r) => ({
      source: r.source,
      digest: r.digest as Digest,
      mediaType: r.media_type ?? undefined,
      exportedAt: r.exported_at,
    }));
  }

  /** One transaction for the receipt and all its blobs. */
  recordReceipt(receipt: ImportReceipt, now: number): void {
    this.db.transaction(() => {
      this.receiptStmt.run(receipt.registry, receipt.repository, receipt.tag ?? null, receipt.digest, now);
      for (const digest of receipt.blobs) this.receiptBlobStmt.run(receipt.registry, receipt.repository, digest, now);
    }).immediate();
  }

  /** Blobs a target registry (optionally one repository of it) is known to hold. */
  heldBlobs(registry: string, repository?: string): Digest[] {
    const rows = repository === undefined ? this.heldStmt.all(registry) : this.heldInRepoStmt.all(registry, repository);
    return rows.map((r) => r.digest as Digest);
  }

  /** Receipts of imports into `registry` (optionally one repository of it), oldest first. */
  receipts(registry: string, repository?: string): ReceiptRecord[] {
    const repo = repository ?? null;
    return this.receiptsStmt.all(registry, repo, repo).map((r) => ({
      registry: r.registry,
      repository: r.repository,
      tag: r.tag ?? undefined,
      digest: r.digest as Digest,
      importedAt: r.imported_at,
    }));
  }

  recordBundle(record: BundleRecord): void {
    const info = record.info === undefined ? null : JSON.stringify(record.info);
    this.bundleStmt.run(record.id, record.direction, record.path, record.blobCount, record.bytes, info, record.at);
  }

  bundles(): BundleRecord[] {
    return this.bundlesStmt.all().map((r) => {
      const out: BundleRecord = { id: r.id, direction: r.direction, path: r.path, blobCount: r.blob_count, bytes: r.bytes, at: r.at };
      if (r.info) out.info = JSON.parse(r.info) as Record<string, unknown>;
      return out;
    });
  }
}
