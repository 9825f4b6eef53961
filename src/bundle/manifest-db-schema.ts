// The schema of ferry/index.db: what a bundle holds, queryable without reading
// past the head (ferry inspect, import planning, k8s preload). Rows are written
// in a fixed order and the file is produced with VACUUM INTO, so the same graph
// gives the same bytes. A reader compares sqlite_master with this text exactly
// and refuses anything else (no views or triggers smuggled into a bundle).

/** PRAGMA application_id: 'FRRY'. */
export const MANIFEST_DB_APPLICATION_ID = 0x46525259;
/** PRAGMA user_version: the schema version of ferry/index.db. */
export const MANIFEST_DB_VERSION = 1;

export const BLOB_KINDS = ['manifest', 'config', 'layer'] as const;
export type BlobKind = (typeof BLOB_KINDS)[number];

export const MANIFEST_DB_TABLES: ReadonlyArray<readonly [name: string, sql: string]> = [
  [
    'blobs',
    `CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  size INTEGER NOT NULL CHECK (size >= 0),
  media_type TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('manifest', 'config', 'layer')),
  position INTEGER NOT NULL UNIQUE,
  included INTEGER NOT NULL CHECK (included IN (0, 1))
) WITHOUT ROWID`,
  ],
  [
    'edges',
    `CREATE TABLE edges (
  parent TEXT NOT NULL,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('manifest', 'config', 'layer', 'subject')),
  child TEXT NOT NULL,
  PRIMARY KEY (parent, position)
) WITHOUT ROWID`,
  ],
  [
    'foreign_urls',
    `CREATE TABLE foreign_urls (
  digest TEXT NOT NULL,
  position INTEGER NOT NULL,
  url TEXT NOT NULL,
  PRIMARY KEY (digest, position)
) WITHOUT ROWID`,
  ],
  [
    'images',
    `CREATE TABLE images (
  name TEXT PRIMARY KEY,
  registry TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL
) WITHOUT ROWID`,
  ],
  [
    'manifests',
    `CREATE TABLE manifests (
  digest TEXT PRIMARY KEY,
  media_type TEXT NOT NULL,
  artifact_type TEXT,
  subject TEXT,
  os TEXT,
  architecture TEXT,
  variant TEXT,
  os_version TEXT
) WITHOUT ROWID`,
  ],
  [
    'referrers',
    `CREATE TABLE referrers (
  subject TEXT NOT NULL,
  digest TEXT NOT NULL,
  artifact_type TEXT,
  image TEXT NOT NULL,
  tag TEXT,
  PRIMARY KEY (subject, digest)
) WITHOUT ROWID`,
  ],
];
