import { MediaType, type Digest, type MediaTypeName } from '../../core/index.js';
import type { Db } from './open.js';

/** A committed blob as the index knows it. */
export interface StoredBlob {
  digest: Digest;
  size: number;
  /** The media type it was first pushed with (a manifest's own type is in its manifest row); undefined when unknown. */
  mediaType: MediaTypeName | undefined;
  createdAt: number;
  touchedAt: number;
}

interface BlobRow {
  digest: string;
  size: number;
  media_type: string | null;
  created_at: number;
  touched_at: number;
}

function toBlob(row: BlobRow): StoredBlob {
  return {
    digest: row.digest as Digest,
    size: row.size,
    mediaType: row.media_type ?? undefined,
    createdAt: row.created_at,
    touchedAt: row.touched_at,
  };
}

/** The blobs table: one row per committed blob. */
export class BlobRows {
  private readonly getStmt;
  private readonly upsertStmt;
  private readonly touchStmt;
  private readonly deleteStmt;
  private readonly totalsStmt;
  private readonly digestsStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], BlobRow>('SELECT digest, size, media_type, created_at, touched_at FROM blobs WHERE digest = ?');
    // A generic octet-stream type gives way to a specific one pushed later.
    this.upsertStmt = db.prepare<{ digest: string; size: number; mediaType: string | null; now: number; generic: string }>(
      `INSERT INTO blobs (digest, size, media_type, created_at, touched_at) VALUES (@digest, @size, @mediaType, @now, @now)
       ON CONFLICT(digest) DO UPDATE SET touched_at = excluded.touched_at,
         media_type = CASE WHEN blobs.media_type IS NULL OR blobs.media_type = @generic THEN COALESCE(excluded.media_type, blobs.media_type) ELSE blobs.media_type END`,
    );
    this.touchStmt = db.prepare<[number, string, number]>('UPDATE blobs SET touched_at = ? WHERE digest = ? AND touched_at < ?');
    this.deleteStmt = db.prepare<[string]>('DELETE FROM blobs WHERE digest = ?');
    this.totalsStmt = db.prepare<[], { count: number; bytes: number }>('SELECT count(*) AS count, coalesce(sum(size), 0) AS bytes FROM blobs');
    this.digestsStmt = db.prepare<[], { digest: string }>('SELECT digest FROM blobs');
  }

  get(digest: Digest): StoredBlob | undefined {
    const row = this.getStmt.get(digest);
    return row ? toBlob(row) : undefined;
  }

  /** Inserts a committed blob, or touches it (and refines its media type) when it is already there. */
  upsert(digest: Digest, size: number, mediaType: MediaTypeName | undefined, now: number): void {
    this.upsertStmt.run({ digest, size, mediaType: mediaType ?? null, now, generic: MediaType.octetStream });
  }

  /** Moves touched_at to `now` when it is older than `ifBefore` (throttles writes from frequent HEADs). */
  touch(digest: Digest, now: number, ifBefore: number = now): void {
    this.touchStmt.run(now, digest, ifBefore);
  }

  delete(digest: Digest): boolean {
    return this.deleteStmt.run(digest).changes > 0;
  }

  totals(): { count: number; bytes: number } {
    return this.totalsStmt.get() ?? { count: 0, bytes: 0 };
  }

  /** Every digest the index holds (GC compares it with the files in blobs/). */
  digests(): Set<string> {
    return new Set(this.digestsStmt.all().map((r) => r.digest));
  }
}
