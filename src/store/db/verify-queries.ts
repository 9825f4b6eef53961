import type { Descriptor, Digest } from '../../core/index.js';
import type { Db } from './open.js';

// What `ferry store verify` reads of the index in one snapshot: every blob, every
// tag, every link, every manifest's required children; and SQLite's own checks.

export interface TagRow {
  repoId: number;
  repository: string;
  tag: string;
  digest: Digest;
}

export interface LinkRow {
  repoId: number;
  digest: Digest;
}

/** A child a manifest needs (config, layer, child manifest; not its subject). */
export interface ChildRow {
  parent: Digest;
  child: Digest;
  /** A foreign layer (it carries urls): the store need not hold it. */
  foreign: boolean;
}

export class VerifyQueries {
  private readonly blobsStmt;
  private readonly tagsStmt;
  private readonly linksStmt;
  private readonly childrenStmt;
  private readonly manifestLinksStmt;
  private readonly namesStmt;
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
    this.blobsStmt = db.prepare<[], { digest: Digest; size: number }>('SELECT digest, size FROM blobs ORDER BY digest');
    this.tagsStmt = db.prepare<[], TagRow>(
      'SELECT t.repo_id AS repoId, r.name AS repository, t.tag AS tag, t.digest AS digest FROM tags t JOIN repositories r ON r.id = t.repo_id ORDER BY r.name, t.tag',
    );
    this.linksStmt = db.prepare<[], LinkRow>('SELECT repo_id AS repoId, digest FROM links');
    this.manifestLinksStmt = db.prepare<[], LinkRow>('SELECT l.repo_id AS repoId, l.digest AS digest FROM links l JOIN manifests m ON m.digest = l.digest');
    this.namesStmt = db.prepare<[], { id: number; name: string }>('SELECT id, name FROM repositories');
    this.childrenStmt = db.prepare<[], { parent: Digest; child: Digest; descriptor: string }>(
      "SELECT parent, child, descriptor FROM edges WHERE kind <> 'subject' ORDER BY parent, kind, position",
    );
  }

  blobs(): Array<{ digest: Digest; size: number }> {
    return this.blobsStmt.all();
  }

  tags(): TagRow[] {
    return this.tagsStmt.all();
  }

  links(): LinkRow[] {
    return this.linksStmt.all();
  }

  repositoryNames(): Map<number, string> {
    return new Map(this.namesStmt.all().map((r) => [r.id, r.name]));
  }

  /** Manifests and the repositories that link them. */
  manifestLinks(): LinkRow[] {
    return this.manifestLinksStmt.all();
  }

  children(): ChildRow[] {
    return this.childrenStmt.all().map((r) => {
      const urls = (JSON.parse(r.descriptor) as Pick<Descriptor, 'urls'>).urls;
      return { parent: r.parent, child: r.child, foreign: urls !== undefined && urls.length > 0 };
    });
  }

  /** SQLite's quick_check and foreign_key_check: an empty list when the index file is sound. */
  problems(): string[] {
    const quick = (this.db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check).filter((m) => m !== 'ok');
    const keys = (this.db.pragma('foreign_key_check') as Array<{ table: string; parent: string }>).map((r) => `${r.table}: a row points at a missing ${r.parent} row`);
    return [...quick, ...keys];
  }
}
