import { Readable } from 'node:stream';
import { ErrorCode, FerryError, NotFoundError, type Descriptor } from '../../core/index.js';
import type { StoreRepository } from '../../store/index.js';
import type { RequestContext } from './context.js';

// How handlers reach the store's repositories. A read is served from the
// repositories the router authorized, in order (containerd's `?ns=` alias gives
// two candidates, see mirror-namespace.ts); writes always use the name as given.

/** A read: the repository as the request named it (for messages) and the ones it may be served from, in order. */
export interface ReadTarget {
  readonly name: string;
  /** Only repositories the caller may pull: one it may not is never tried, as if it did not exist. */
  readonly repositories: readonly string[];
}

function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError || (err instanceof FerryError && err.code === ErrorCode.nameInvalid);
}

/**
 * Runs `read` against each repository of `target` in turn and returns the first
 * answer; a NotFoundError moves on to the next. The last error is thrown.
 */
export async function readFromRepository<T>(ctx: RequestContext, target: ReadTarget, read: (repo: StoreRepository) => T | Promise<T>): Promise<T> {
  // The fallback error is made only when it is thrown: an Error captures a stack, a cost every read paid (4% of a tags/list page).
  let last: unknown;
  for (const candidate of target.repositories) {
    try {
      return await read(ctx.deps.store.repository(candidate));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      last = err;
    }
  }
  throw last ?? new NotFoundError(`repository ${target.name} is not known`, { code: ErrorCode.nameUnknown });
}

/**
 * Links a blob that an upload session just committed into `repo`. The store has
 * no public "link an existing blob" call yet, so this uses push(): for a blob the
 * store already holds, push links it and touches it without reading the body.
 * (The bytes were verified by the session's ingest commit a moment ago.)
 */
export async function linkCommitted(repo: StoreRepository, desc: Descriptor): Promise<void> {
  await repo.push(desc, Readable.from([]));
}
