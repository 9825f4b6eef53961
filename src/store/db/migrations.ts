import { ErrorCode, UsageError } from '../../core/index.js';
import type { Db } from './open.js';

// Schema migrations, applied in order; PRAGMA user_version counts how many ran.
// Append new entries, never edit old ones. Times are milliseconds since the epoch.
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE blobs (
    digest     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    media_type TEXT,
    created_at INTEGER NOT NULL,
    touched_at INTEGER NOT NULL          -- committed, linked, checked: GC's grace window reads this
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE manifests (
    digest        TEXT PRIMARY KEY REFERENCES blobs(digest) ON DELETE CASCADE,
    media_type    TEXT NOT NULL,
    artifact_type TEXT,
    subject       TEXT,
    platform      TEXT,                  -- JSON, from an index descriptor naming this manifest
    annotations   TEXT,                  -- JSON
    keep          INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX manifests_subject ON manifests(subject) WHERE subject IS NOT NULL;

  CREATE TABLE edges (
    parent     TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('manifest', 'config', 'layer', 'subject')),
    position   INTEGER NOT NULL,
    child      TEXT NOT NULL,            -- not a foreign key: a child may be absent (foreign layer, missing subject)
    descriptor TEXT NOT NULL,            -- JSON of the descriptor as the parent wrote it
    PRIMARY KEY (parent, kind, position)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX edges_child ON edges(child, kind);

  CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE links (
    repo_id   INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest    TEXT NOT NULL REFERENCES blobs(digest) ON DELETE CASCADE,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (repo_id, digest)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX links_digest ON links(digest);

  CREATE TABLE tags (
    repo_id    INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    digest     TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repo_id, tag)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX tags_digest ON tags(digest);

  CREATE TABLE foreign_urls (
    digest TEXT NOT NULL,
    url    TEXT NOT NULL,
    PRIMARY KEY (digest, url)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE ingests (                 -- in-flight writes: a pin for GC and a cross-process lock
    ref             TEXT PRIMARY KEY,
    expected_digest TEXT,
    expected_size   INTEGER,
    pid             INTEGER NOT NULL,
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX ingests_digest ON ingests(expected_digest) WHERE expected_digest IS NOT NULL;

  CREATE TABLE pins (                    -- explicit pins: an upload session or a copy in progress
    owner      TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, digest)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE exports (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,           -- the reference as exported, e.g. mcr.microsoft.com/windows/servercore:ltsc2022
    digest      TEXT NOT NULL,
    media_type  TEXT,
    exported_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX exports_source ON exports(source);

  CREATE TABLE receipts (
    id          INTEGER PRIMARY KEY,
    registry    TEXT NOT NULL,
    repository  TEXT NOT NULL,
    tag         TEXT,
    digest      TEXT NOT NULL,
    imported_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE receipt_blobs (           -- blobs a target is known to hold: the input of delta exports
    registry   TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest     TEXT NOT NULL,
    seen_at    INTEGER NOT NULL,
    PRIMARY KEY (registry, repository, digest)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE bundles (
    id         TEXT NOT NULL,
    direction  TEXT NOT NULL CHECK (direction IN ('written', 'imported')),
    path       TEXT NOT NULL,
    blob_count INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    info       TEXT,                     -- JSON, whatever the bundle layer wants to keep
    at         INTEGER NOT NULL,
    PRIMARY KEY (id, direction, at)
  ) STRICT;
  `,
];

/** How many migrations this code knows: the user_version of an up-to-date index. */
export const SCHEMA_VERSION = MIGRATIONS.length;

function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function newerError(path: string, found: number): UsageError {
  return new UsageError(`store index ${path} has schema version ${found}, newer than this ferry understands (${SCHEMA_VERSION})`, {
    code: ErrorCode.storeVersion,
    hint: 'use the newer ferry that last wrote this store',
  });
}

/** Brings the schema up to date, or refuses an index written by a newer ferry. */
export function migrate(db: Db, path: string, readOnly: boolean): void {
  const found = userVersion(db);
  if (found > SCHEMA_VERSION) throw newerError(path, found);
  if (found === SCHEMA_VERSION) return;
  if (readOnly) {
    throw new UsageError(`store index ${path} needs an upgrade that a read-only open cannot do`, { code: ErrorCode.storeVersion });
  }
  const apply = db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const current = userVersion(db);
    if (current > SCHEMA_VERSION) throw newerError(path, current);
    for (let i = current; i < SCHEMA_VERSION; i++) db.exec(MIGRATIONS[i] ?? '');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  apply.immediate();
}
