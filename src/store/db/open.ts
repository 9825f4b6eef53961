import Database from 'better-sqlite3';
import { ErrorCode, UsageError } from '../../core/index.js';
import { migrate } from './migrations.js';

export type Db = Database.Database;

/** How long a statement waits for another process's write lock (a GC sweep, a commit). */
const BUSY_TIMEOUT_MS = 15_000;

/**
 * Opens index.db: busy_timeout FIRST (every later pragma may need the lock), then
 * WAL, synchronous=NORMAL (durable against a process crash; a power loss can lose
 * the last rows, which the store heals: files in blobs/ are always complete),
 * foreign keys, and the schema migrations.
 */
export function openIndexDb(path: string, options: { readOnly: boolean }): Db {
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readOnly, fileMustExist: options.readOnly });
  } catch (err) {
    throw new UsageError(`cannot open store index ${path}: ${(err as Error).message}`, { code: ErrorCode.usage, cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!options.readOnly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, path, options.readOnly);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot open store index ${path}: ${(err as Error).message}`, { code: ErrorCode.usage, cause: err });
  }
}
