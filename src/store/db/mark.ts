import type { Digest } from '../../core/index.js';
import type { Db } from './open.js';

// The mark phase of GC, prune and usage, as SQL: everything reachable from the
// roots along the graph edges, plus every referrer (signature, SBOM) whose subject
// is reachable, so they stay with their image. A subject edge is not followed
// downwards: a signature does not keep its image alive.
const REACH = `
  marked(digest) AS (
    SELECT digest FROM roots
    UNION SELECT e.child FROM edges e JOIN marked m ON e.parent = m.digest WHERE e.kind <> 'subject'
    UNION SELECT e.parent FROM edges e JOIN marked m ON e.child = m.digest WHERE e.kind = 'subject'
  )`;

/** Roots that keep content for good: tags and manifests marked keep. */
const STRONG_ROOTS = `roots(digest) AS (SELECT digest FROM tags UNION SELECT digest FROM manifests WHERE keep = 1)`;

/** Strong roots plus what writers are busy with: recent touches, in-flight ingests, explicit pins. */
const ALL_ROOTS = `roots(digest) AS (
    SELECT digest FROM tags
    UNION SELECT digest FROM manifests WHERE keep = 1
    UNION SELECT digest FROM blobs WHERE touched_at >= @cutoff
    UNION SELECT expected_digest FROM ingests WHERE expected_digest IS NOT NULL
    UNION SELECT digest FROM pins
  )`;

export interface Unmarked {
  digest: Digest;
  size: number;
  mediaType: string | null;
  isManifest: number;
}

const UNMARKED = `SELECT b.digest, b.size, coalesce(m.media_type, b.media_type) AS mediaType, m.digest IS NOT NULL AS isManifest
  FROM blobs b LEFT JOIN manifests m ON m.digest = b.digest
  WHERE b.digest NOT IN (SELECT digest FROM marked) ORDER BY b.digest`;

/** One row per (tag, blob it reaches): the closure of every image, for usage accounting. */
export interface ImageReach {
  repository: string;
  tag: string;
  root: Digest;
  digest: Digest;
  size: number;
}

// Same walk as REACH, carried per tag: the image a blob belongs to is part of the row.
const REACH_BY_TAG = `WITH RECURSIVE
  reach(repo_id, tag, digest) AS (
    SELECT repo_id, tag, digest FROM tags
    UNION SELECT r.repo_id, r.tag, e.child FROM edges e JOIN reach r ON e.parent = r.digest WHERE e.kind <> 'subject'
    UNION SELECT r.repo_id, r.tag, e.parent FROM edges e JOIN reach r ON e.child = r.digest WHERE e.kind = 'subject'
  )
  SELECT repo.name AS repository, reach.tag AS tag, t.digest AS root, reach.digest AS digest, b.size AS size
  FROM reach JOIN blobs b ON b.digest = reach.digest JOIN repositories repo ON repo.id = reach.repo_id
  JOIN tags t ON t.repo_id = reach.repo_id AND t.tag = reach.tag
  ORDER BY repo.name, reach.tag`;

/** Mark queries over one connection. Run them inside a transaction for a consistent snapshot. */
export class MarkQueries {
  private readonly unmarkedStmt;
  private readonly unreachableStmt;
  private readonly reachByTagStmt;

  constructor(db: Db) {
    this.unmarkedStmt = db.prepare<{ cutoff: number }, Unmarked>(`WITH RECURSIVE ${ALL_ROOTS}, ${REACH} ${UNMARKED}`);
    this.unreachableStmt = db.prepare<[], Unmarked>(`WITH RECURSIVE ${STRONG_ROOTS}, ${REACH} ${UNMARKED}`);
    this.reachByTagStmt = db.prepare<[], ImageReach>(REACH_BY_TAG);
  }

  /** Blobs nothing keeps: not reachable from tags, kept manifests, pins, ingests, or blobs touched at or after `cutoff`. */
  garbage(cutoff: number): Unmarked[] {
    return this.unmarkedStmt.all({ cutoff });
  }

  /** Blobs not reachable from tags or kept manifests, whatever writers are doing. */
  unreachable(): Unmarked[] {
    return this.unreachableStmt.all();
  }

  /**
   * Every committed blob each tag reaches (itself, its children, referrers of
   * them), grouped by repository then tag, streamed: 10,000 tags reach ~100,000
   * rows, too many to hold at once. Consume it inside one read transaction.
   */
  reachByTag(): IterableIterator<ImageReach> {
    return this.reachByTagStmt.iterate();
  }
}
