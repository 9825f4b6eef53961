import type { Digest } from '../../core/index.js';
import type { Db } from './open.js';

/** An in-flight ingest as the index knows it: a GC pin and a cross-process lock. */
export interface IngestRow {
  ref: string;
  expectedDigest: Digest | undefined;
  expectedSize: number | undefined;
  pid: number;
  startedAt: number;
  updatedAt: number;
}

interface Row {
  ref: string;
  expected_digest: string | null;
  expected_size: number | null;
  pid: number;
  started_at: number;
  updated_at: number;
}

const toIngest = (r: Row): IngestRow => ({
  ref: r.ref,
  expectedDigest: (r.expected_digest ?? undefined) as Digest | undefined,
  expectedSize: r.expected_size ?? undefined,
  pid: r.pid,
  startedAt: r.started_at,
  updatedAt: r.updated_at,
});

/** The ingests and pins tables. */
export class IngestRows {
  private readonly getStmt;
  private readonly allStmt;
  private readonly claimStmt;
  private readonly deleteStmt;
  private readonly releaseStmt;
  private readonly pinStmt;
  private readonly unpinStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM ingests WHERE ref = ?');
    this.allStmt = db.prepare<[], Row>('SELECT * FROM ingests ORDER BY ref');
    this.claimStmt = db.prepare<[string, string | null, number | null, number, number, number]>(
      `INSERT INTO ingests (ref, expected_digest, expected_size, pid, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(ref) DO UPDATE SET expected_digest = coalesce(excluded.expected_digest, ingests.expected_digest),
         expected_size = coalesce(excluded.expected_size, ingests.expected_size),
         pid = excluded.pid, updated_at = excluded.updated_at`,
    );
    this.deleteStmt = db.prepare<[string]>('DELETE FROM ingests WHERE ref = ?');
    this.releaseStmt = db.prepare<[number, string, number]>('UPDATE ingests SET pid = 0, updated_at = ? WHERE ref = ? AND pid = ?');
    this.pinStmt = db.prepare<[string, string, number]>('INSERT OR IGNORE INTO pins (owner, digest, created_at) VALUES (?, ?, ?)');
    this.unpinStmt = db.prepare<[string]>('DELETE FROM pins WHERE owner = ?');
  }

  get(ref: string): IngestRow | undefined {
    const row = this.getStmt.get(ref);
    return row ? toIngest(row) : undefined;
  }

  all(): IngestRow[] {
    return this.allStmt.all().map(toIngest);
  }

  /** Records `pid` as the writer of `ref` (the caller checked the previous holder is gone). */
  claim(ref: string, expected: { digest?: Digest; size?: number } | undefined, pid: number, now: number): void {
    this.claimStmt.run(ref, expected?.digest ?? null, expected?.size ?? null, pid, now, now);
  }

  delete(ref: string): void {
    this.deleteStmt.run(ref);
  }

  /** The writer closed without committing: the row stays as a pin, and anyone may resume (pid 0 = nobody). */
  release(ref: string, pid: number, now: number): void {
    this.releaseStmt.run(now, ref, pid);
  }

  pin(owner: string, digest: Digest, now: number): void {
    this.pinStmt.run(owner, digest, now);
  }

  unpin(owner: string): number {
    return this.unpinStmt.run(owner).changes;
  }
}
