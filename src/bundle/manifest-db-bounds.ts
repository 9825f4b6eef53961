import type Database from 'better-sqlite3';
import { MAX_IMAGE_NAME_CHARS, MAX_MEDIA_TYPE_CHARS } from '../core/limits.js';

// What ferry/index.db may hold, checked inside SQLite (one scan per table, no
// value copied into JS) before a row is read: every text column within its
// length and of its type, every integer column an integer, and each table's
// row count within what bundle.json promises. An unsigned bundle's index.db is
// whatever its maker chose: an 80 MB media type must not reach a string here.

/** Rows bundle.json promises: blobs carried plus assumed, and images. */
export interface DbPromise {
  blobs: number;
  images: number;
}

const DIGEST = 71; // sha256: + 64 hex
const KIND = 8;
const TAG = 128;
const PLATFORM_FIELD = 128;
/** Longest foreign-layer URL (browsers and registries commonly stop near 2 KiB). */
export const MAX_URL_CHARS = 2048;
/** The least bytes a manifest spends on one child (its digest); and on one URL ("http://x"). */
const BYTES_PER_EDGE = DIGEST;
const BYTES_PER_URL = 10;

type Column = { text: number; nullable?: true } | { integer: true };
const text = (max: number): Column => ({ text: max });
const optional = (max: number): Column => ({ text: max, nullable: true });
const integer: Column = { integer: true };

/** Every column of MANIFEST_DB_TABLES, with its bound. */
export const COLUMN_BOUNDS: Readonly<Record<string, Readonly<Record<string, Column>>>> = {
  blobs: { digest: text(DIGEST), size: integer, media_type: text(MAX_MEDIA_TYPE_CHARS), kind: text(KIND), position: integer, included: integer },
  edges: { parent: text(DIGEST), position: integer, kind: text(KIND), child: text(DIGEST) },
  foreign_urls: { digest: text(DIGEST), position: integer, url: text(MAX_URL_CHARS) },
  images: {
    name: text(MAX_IMAGE_NAME_CHARS),
    registry: text(255),
    repository: text(255),
    tag: optional(TAG),
    digest: text(DIGEST),
    media_type: text(MAX_MEDIA_TYPE_CHARS),
    size: integer,
  },
  manifests: {
    digest: text(DIGEST),
    media_type: text(MAX_MEDIA_TYPE_CHARS),
    artifact_type: optional(MAX_MEDIA_TYPE_CHARS),
    subject: optional(DIGEST),
    os: optional(PLATFORM_FIELD),
    architecture: optional(PLATFORM_FIELD),
    variant: optional(PLATFORM_FIELD),
    os_version: optional(PLATFORM_FIELD),
  },
  referrers: { subject: text(DIGEST), digest: text(DIGEST), artifact_type: optional(MAX_MEDIA_TYPE_CHARS), image: text(MAX_IMAGE_NAME_CHARS), tag: optional(TAG) },
};

type Stats = Record<string, number | null>;

/** One scan of `table`: its row count, and per column the longest value and the rows of a wrong type. */
function scan(db: Database.Database, table: string): Stats {
  const parts = ['count(*) AS "rows"'];
  for (const [col, bound] of Object.entries(COLUMN_BOUNDS[table] ?? {})) {
    const types = 'integer' in bound ? `'integer'` : bound.nullable ? `'text', 'null'` : `'text'`;
    parts.push(`sum(typeof("${col}") NOT IN (${types})) AS "type:${col}"`);
    if ('text' in bound) parts.push(`max(length("${col}")) AS "len:${col}"`);
  }
  // The bytes of manifests, which bound the edges and URLs: in this scan, not a second one of blobs.
  if (table === 'blobs') parts.push(`total(CASE WHEN kind = 'manifest' THEN size END) AS "manifest_bytes"`);
  return db.prepare(`SELECT ${parts.join(', ')} FROM "${table}"`).get() as Stats;
}

/** The first bound index.db breaks, in words (`blobs.media_type …`), or undefined. */
export function breachedBound(db: Database.Database, promise?: DbPromise): string | undefined {
  const rows: Record<string, number> = {};
  let bytes = 0;
  for (const [table, columns] of Object.entries(COLUMN_BOUNDS)) {
    const stats = scan(db, table);
    rows[table] = stats.rows ?? 0;
    if (table === 'blobs') bytes = stats.manifest_bytes ?? 0;
    for (const [col, bound] of Object.entries(columns)) {
      if ((stats[`type:${col}`] ?? 0) > 0) return `${table}.${col} holds a value that is not ${'integer' in bound ? 'an integer' : 'text'}`;
      const len = stats[`len:${col}`] ?? 0;
      if ('text' in bound && len > bound.text) return `${table}.${col} holds a value of ${len} characters, over the ${bound.text}-character limit`;
    }
  }
  if (!promise) return undefined;
  const blobs = rows.blobs ?? 0;
  if (blobs !== promise.blobs) return `lists ${blobs} blobs where ferry/bundle.json promises ${promise.blobs} (carried and assumed)`;
  if (rows.images !== promise.images) return `lists ${rows.images} images where ferry/bundle.json promises ${promise.images}`;
  for (const table of ['manifests', 'referrers']) {
    if ((rows[table] ?? 0) > blobs) return `has ${rows[table]} ${table} rows for ${blobs} blobs`;
  }
  const edges = Math.floor(bytes / BYTES_PER_EDGE);
  if ((rows.edges ?? 0) > edges) return `has ${rows.edges} edges, more than ${bytes} bytes of manifests can name (${edges})`;
  const urls = Math.floor(bytes / BYTES_PER_URL);
  if ((rows.foreign_urls ?? 0) > urls) return `has ${rows.foreign_urls} foreign layer URLs, more than ${bytes} bytes of manifests can hold (${urls})`;
  return undefined;
}
