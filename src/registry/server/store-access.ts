import { Readable } from 'node:stream';
import { ErrorCode, FerryError, NotFoundError, type Descriptor } from '../../core/index.js';
import type { StoreRepository } from '../../store/index.js';
import type { RequestContext } from './context.js';
import { candidateRepositories } from './mirror-namespace.js';

// How handlers reach the store's repositories: reads honour containerd's `?ns=`
// mirror parameter (see mirror-namespace.ts); writes always use the name as given.

function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError || (err instanceof FerryError && err.code === ErrorCode.nameInvalid);
}

/**
 * Runs `read` against each candidate repository for `name` in turn and returns
 * the first answer; a NotFoundError moves on to the next. The last error is thrown.
 */
export async function readFromRepository<T>(ctx: RequestContext, name: string, read: (repo: StoreRepository) => T | Promise<T>): Promise<T> {
  const candidates = candidateRepositories(name, ctx.url.searchParams.get('ns'));
  let last: unknown;
  for (const candidate of candidates) {
    try {
      return await read(ctx.deps.store.repository(candidate));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      last = err;
    }
  }
  throw last;
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
