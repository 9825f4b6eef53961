import { ErrorCode, UsageError } from '../core/index.js';
import { BlobRows } from './db/blobs.js';
import { IngestRows } from './db/ingests.js';
import { ManifestRows } from './db/manifests.js';
import { MarkQueries } from './db/mark.js';
import { openIndexDb, type Db } from './db/open.js';
import { RecordRows } from './db/records.js';
import { RepositoryRows } from './db/repositories.js';
import { VerifyQueries } from './db/verify-queries.js';

/**
 * index.db with its tables, each a small class of prepared statements (one file
 * per concern under db/). Writes that belong together go through `immediate`:
 * one transaction per blob or per manifest, never one per row.
 */
export class StoreIndex {
  readonly db: Db;
  readonly blobs: BlobRows;
  readonly manifests: ManifestRows;
  readonly repos: RepositoryRows;
  readonly ingests: IngestRows;
  readonly records: RecordRows;
  readonly mark: MarkQueries;
  readonly verify: VerifyQueries;
  readonly readOnly: boolean;

  constructor(path: string, options: { readOnly: boolean }) {
    this.readOnly = options.readOnly;
    this.db = openIndexDb(path, options);
    this.blobs = new BlobRows(this.db);
    this.manifests = new ManifestRows(this.db);
    this.repos = new RepositoryRows(this.db);
    this.ingests = new IngestRows(this.db);
    this.records = new RecordRows(this.db);
    this.mark = new MarkQueries(this.db);
    this.verify = new VerifyQueries(this.db);
  }

  /**
   * A write transaction taken with BEGIN IMMEDIATE: it holds the store's write lock
   * across processes from the start, which is what serialises commits against a GC
   * sweep. `fn` must be synchronous (better-sqlite3 transactions are).
   */
  immediate<T>(fn: () => T): T {
    if (this.readOnly) throw new UsageError('the store was opened read-only', { code: ErrorCode.usage });
    return this.db.transaction(fn).immediate();
  }

  /** A read transaction: one consistent snapshot for several queries. */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }

  close(): void {
    if (!this.db.open) return;
    try {
      if (!this.db.readonly) this.db.pragma('optimize');
    } catch {
      // Only an optimisation: a full disk must not turn closing into a failure.
    } finally {
      this.db.close();
    }
  }
}
