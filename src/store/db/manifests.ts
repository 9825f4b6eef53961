import type { Descriptor, Digest, EdgeKind, MediaTypeName, Platform } from '../../core/index.js';
import type { Db } from './open.js';

/** What the index records about a manifest, derived from its parsed document. */
export interface ManifestRecord {
  digest: Digest;
  mediaType: MediaTypeName;
  /** The manifest's artifactType, else (image manifests) its config media type, as the referrers API reports it. */
  artifactType: string | undefined;
  subject: Digest | undefined;
  annotations: Record<string, string> | undefined;
  edges: ReadonlyArray<{ kind: EdgeKind; descriptor: Descriptor }>;
}

export interface StoredManifest {
  digest: Digest;
  mediaType: MediaTypeName;
  artifactType: string | undefined;
  subject: Digest | undefined;
  platform: Platform | undefined;
  annotations: Record<string, string> | undefined;
  keep: boolean;
  createdAt: number;
}

/** One edge out of a stored manifest, with the descriptor exactly as the parent wrote it. */
export interface StoredEdge {
  kind: EdgeKind;
  descriptor: Descriptor;
}

interface ManifestRow {
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject: string | null;
  platform: string | null;
  annotations: string | null;
  keep: number;
  created_at: number;
}

function toManifest(row: ManifestRow): StoredManifest {
  return {
    digest: row.digest as Digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type ?? undefined,
    subject: (row.subject ?? undefined) as Digest | undefined,
    platform: row.platform ? (JSON.parse(row.platform) as Platform) : undefined,
    annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : undefined,
    keep: row.keep !== 0,
    createdAt: row.created_at,
  };
}

const SELECT = 'SELECT digest, media_type, artifact_type, subject, platform, annotations, keep, created_at FROM manifests';

/** The manifests, edges and foreign_urls tables: the content graph. */
export class ManifestRows {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly edgeStmt;
  private readonly urlStmt;
  private readonly edgesOfStmt;
  private readonly platformOfStmt;
  private readonly setPlatformStmt;
  private readonly keepStmt;
  private readonly deleteStmt;
  private readonly urlsOfStmt;
  private readonly referrersStmt;
  private readonly pruneUrlsStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], ManifestRow>(`${SELECT} WHERE digest = ?`);
    this.insertStmt = db.prepare<[string, string, string | null, string | null, string | null, string | null, number]>(
      `INSERT INTO manifests (digest, media_type, artifact_type, subject, platform, annotations, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(digest) DO NOTHING`,
    );
    this.edgeStmt = db.prepare<[string, string, number, string, string]>(
      'INSERT OR IGNORE INTO edges (parent, kind, position, child, descriptor) VALUES (?, ?, ?, ?, ?)',
    );
    this.urlStmt = db.prepare<[string, string]>('INSERT OR IGNORE INTO foreign_urls (digest, url) VALUES (?, ?)');
    this.edgesOfStmt = db.prepare<[string], { kind: EdgeKind; descriptor: string }>(
      'SELECT kind, descriptor FROM edges WHERE parent = ? ORDER BY kind = \'subject\', kind <> \'config\', position',
    );
    this.platformOfStmt = db.prepare<[string], { platform: string }>(
      `SELECT json_extract(descriptor, '$.platform') AS platform FROM edges
       WHERE child = ? AND kind = 'manifest' AND json_extract(descriptor, '$.platform') IS NOT NULL LIMIT 1`,
    );
    this.setPlatformStmt = db.prepare<[string, string]>('UPDATE manifests SET platform = ? WHERE digest = ? AND platform IS NULL');
    this.keepStmt = db.prepare<[number, string]>('UPDATE manifests SET keep = ? WHERE digest = ?');
    this.deleteStmt = db.prepare<[string]>('DELETE FROM manifests WHERE digest = ?');
    this.urlsOfStmt = db.prepare<[string], { url: string }>('SELECT url FROM foreign_urls WHERE digest = ? ORDER BY url');
    this.referrersStmt = db.prepare<[number, string], ManifestRow & { size: number }>(
      `SELECT m.digest, m.media_type, m.artifact_type, m.subject, m.platform, m.annotations, m.keep, m.created_at, b.size
       FROM manifests m JOIN blobs b ON b.digest = m.digest JOIN links l ON l.digest = m.digest AND l.repo_id = ?
       WHERE m.subject = ? ORDER BY m.digest`,
    );
    this.pruneUrlsStmt = db.prepare(
      `DELETE FROM foreign_urls WHERE digest NOT IN (SELECT digest FROM blobs) AND digest NOT IN (SELECT child FROM edges)`,
    );
  }

  get(digest: Digest): StoredManifest | undefined {
    const row = this.getStmt.get(digest);
    return row ? toManifest(row) : undefined;
  }

  /** Records a manifest with its edges and foreign-layer URLs; recording it again changes nothing. */
  record(rec: ManifestRecord, now: number): void {
    const inserted =
      this.insertStmt.run(
        rec.digest,
        rec.mediaType,
        rec.artifactType ?? null,
        rec.subject ?? null,
        this.platformOfStmt.get(rec.digest)?.platform ?? null,
        rec.annotations ? JSON.stringify(rec.annotations) : null,
        now,
      ).changes > 0;
    if (!inserted) return;
    const positions = new Map<EdgeKind, number>();
    for (const { kind, descriptor } of rec.edges) {
      const position = positions.get(kind) ?? 0;
      positions.set(kind, position + 1);
      this.edgeStmt.run(rec.digest, kind, position, descriptor.digest, JSON.stringify(descriptor));
      for (const url of descriptor.urls ?? []) this.urlStmt.run(descriptor.digest, url);
      // An index names its children's platforms; children recorded earlier learn theirs now.
      if (kind === 'manifest' && descriptor.platform) this.setPlatformStmt.run(JSON.stringify(descriptor.platform), descriptor.digest);
    }
  }

  /** Config first, then layers or child manifests in document order, then the subject. */
  edgesOf(digest: Digest): StoredEdge[] {
    return this.edgesOfStmt.all(digest).map((r) => ({ kind: r.kind, descriptor: JSON.parse(r.descriptor) as Descriptor }));
  }

  setKeep(digest: Digest, keep: boolean): boolean {
    return this.keepStmt.run(keep ? 1 : 0, digest).changes > 0;
  }

  delete(digest: Digest): boolean {
    return this.deleteStmt.run(digest).changes > 0;
  }

  foreignUrls(digest: Digest): string[] {
    return this.urlsOfStmt.all(digest).map((r) => r.url);
  }

  /** Forgets URLs of foreign layers that no stored manifest names and the store does not hold (after a GC). */
  pruneForeignUrls(): number {
    return this.pruneUrlsStmt.run().changes;
  }

  /** Manifests linked in repository `repoId` whose subject is `subject`. */
  referrers(subject: Digest, repoId: number): Array<StoredManifest & { size: number }> {
    return this.referrersStmt.all(repoId, subject).map((r) => ({ ...toManifest(r), size: r.size }));
  }
}
