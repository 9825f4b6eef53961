import { ErrorCode, UsageError, type Digest } from '../../core/index.js';
import type { Db } from './open.js';

/** One page of a sorted listing; `next` is the `last` to pass for the following page, undefined at the end. */
export interface Page<T> {
  items: T[];
  next: string | undefined;
}

export interface PageOptions {
  /** Only names sorting after this one. */
  last?: string | undefined;
  /** At most this many; all when undefined. */
  n?: number;
}

/** Runs a `LIMIT ?` query for n+1 rows so the caller knows whether another page follows. */
function page(fetch: (limit: number) => string[], n: number | undefined): Page<string> {
  if (n === undefined) return { items: fetch(-1), next: undefined };
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`invalid page size ${n}: expected a non-negative integer`, { code: ErrorCode.usage });
  const rows = fetch(n + 1);
  const items = rows.slice(0, n);
  return { items, next: rows.length > n ? items[items.length - 1] : undefined };
}

/** The repositories, links and tags tables: who may serve what, under which names. */
export class RepositoryRows {
  private readonly idStmt;
  private readonly insertStmt;
  private readonly linkStmt;
  private readonly isLinkedStmt;
  private readonly unlinkStmt;
  private readonly unlinkAllStmt;
  private readonly linkedInStmt;
  private readonly linkingStmt;
  private readonly setTagStmt;
  private readonly getTagStmt;
  private readonly deleteTagStmt;
  private readonly deleteTagsOfStmt;
  private readonly listTagsStmt;
  private readonly listReposStmt;
  private readonly deleteEmptyStmt;

  constructor(db: Db) {
    this.idStmt = db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?');
    this.insertStmt = db.prepare<[string, number]>('INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)');
    this.linkStmt = db.prepare<[number, string, number]>('INSERT OR IGNORE INTO links (repo_id, digest, linked_at) VALUES (?, ?, ?)');
    this.isLinkedStmt = db.prepare<[number, string], { one: number }>('SELECT 1 AS one FROM links WHERE repo_id = ? AND digest = ?');
    this.unlinkStmt = db.prepare<[number, string]>('DELETE FROM links WHERE repo_id = ? AND digest = ?');
    this.unlinkAllStmt = db.prepare<[string]>('DELETE FROM links WHERE digest = ?');
    this.linkedInStmt = db.prepare<[string], { name: string }>(
      'SELECT r.name FROM links l JOIN repositories r ON r.id = l.repo_id WHERE l.digest = ? ORDER BY r.name',
    );
    this.linkingStmt = db.prepare<[string, string], { name: string }>(
      'SELECT r.name FROM links l JOIN repositories r ON r.id = l.repo_id WHERE l.digest = ? AND r.name <> ? LIMIT 1',
    );
    this.setTagStmt = db.prepare<[number, string, string, number]>(
      `INSERT INTO tags (repo_id, tag, digest, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(repo_id, tag) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
    );
    this.getTagStmt = db.prepare<[number, string], { digest: string }>('SELECT digest FROM tags WHERE repo_id = ? AND tag = ?');
    this.deleteTagStmt = db.prepare<[number, string]>('DELETE FROM tags WHERE repo_id = ? AND tag = ?');
    this.deleteTagsOfStmt = db.prepare<[number, string]>('DELETE FROM tags WHERE repo_id = ? AND digest = ?');
    // Plucked: a page of 10,000 tags as strings, not 10,000 row objects mapped to strings (~6 → ~2.5 ms).
    this.listTagsStmt = db
      .prepare<[number, string, number], string>('SELECT tag FROM tags WHERE repo_id = ? AND tag > ? ORDER BY tag LIMIT ?')
      .pluck();
    // A repository is listed while it links anything; repositories are created on first write.
    this.listReposStmt = db
      .prepare<[string, number], string>(
        `SELECT name FROM repositories r WHERE name > ? AND EXISTS (SELECT 1 FROM links l WHERE l.repo_id = r.id)
       ORDER BY name LIMIT ?`,
      )
      .pluck();
    this.deleteEmptyStmt = db.prepare(
      `DELETE FROM repositories WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.repo_id = repositories.id)
       AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = repositories.id)`,
    );
  }

  id(name: string): number | undefined {
    return this.idStmt.get(name)?.id;
  }

  /** The id of `name`, creating the repository row on first use. */
  ensure(name: string, now: number): number {
    this.insertStmt.run(name, now);
    const id = this.id(name);
    if (id === undefined) throw new Error(`repository row for ${name} vanished`);
    return id;
  }

  link(repoId: number, digest: Digest, now: number): void {
    this.linkStmt.run(repoId, digest, now);
  }

  isLinked(repoId: number, digest: Digest): boolean {
    return this.isLinkedStmt.get(repoId, digest) !== undefined;
  }

  unlink(repoId: number, digest: Digest): boolean {
    return this.unlinkStmt.run(repoId, digest).changes > 0;
  }

  unlinkEverywhere(digest: Digest): number {
    return this.unlinkAllStmt.run(digest).changes;
  }

  /** Names of the repositories that link `digest`, sorted. */
  linkedIn(digest: Digest): string[] {
    return this.linkedInStmt.all(digest).map((r) => r.name);
  }

  /** One repository other than `except` that links `digest`, or undefined: a row of the index at most, however many link it. */
  linkingRepository(digest: Digest, except = ''): string | undefined {
    return this.linkingStmt.get(digest, except)?.name;
  }

  setTag(repoId: number, tag: string, digest: Digest, now: number): void {
    this.setTagStmt.run(repoId, tag, digest, now);
  }

  getTag(repoId: number, tag: string): Digest | undefined {
    return this.getTagStmt.get(repoId, tag)?.digest as Digest | undefined;
  }

  deleteTag(repoId: number, tag: string): boolean {
    return this.deleteTagStmt.run(repoId, tag).changes > 0;
  }

  deleteTagsOf(repoId: number, digest: Digest): number {
    return this.deleteTagsOfStmt.run(repoId, digest).changes;
  }

  listTags(repoId: number, options: PageOptions = {}): Page<string> {
    return page((limit) => this.listTagsStmt.all(repoId, options.last ?? '', limit), options.n);
  }

  listRepositories(options: PageOptions = {}): Page<string> {
    return page((limit) => this.listReposStmt.all(options.last ?? '', limit), options.n);
  }

  /** Drops repositories that neither link nor tag anything any more (after a GC). */
  deleteEmpty(): number {
    return this.deleteEmptyStmt.run().changes;
  }
}
