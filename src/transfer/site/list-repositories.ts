import { AuthError, FerryError, NotFoundError, UsageError } from '../../core/index.js';
import { registryErrorDetails, type RegistryClient } from '../../registry/client/index.js';

// `ferry ls REGISTRY`: every repository, following the `_catalog` Link pages to
// the end (distribution, ACR and Harbor page at 100). A registry that does not
// list (ACR repository-scoped tokens, Harbor without system admin, registries
// without `_catalog`) gets one line saying so and what to do instead.

export interface ListOptions {
  /** `n` asked of the registry per page (default: the registry's own). */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

const ALTERNATIVE = 'name a repository instead: ferry ls REGISTRY/REPO';

function cannotList(registry: string, err: FerryError): FerryError {
  const status = registryErrorDetails(err)?.status;
  // A refusal of who was asking already says who, where and what to check (refusals.ts).
  if (err instanceof AuthError && err.details?.['who'] !== undefined) return err;
  const message = `${registry} does not list its repositories to these credentials (GET /v2/_catalog): ${err.message}`;
  if (err instanceof AuthError) {
    // "no credentials found" is the more useful hint when there were none.
    const hint = /no credentials found/.test(err.hint ?? '')
      ? `${err.hint ?? ''}; or ${ALTERNATIVE}`
      : `listing needs registry-wide read (ACR: a repository-scoped token cannot list, AcrPull on the registry can; Harbor: only system administrators list the catalog); or ${ALTERNATIVE}`;
    return new AuthError(message, { code: err.code, hint, cause: err });
  }
  if (err instanceof NotFoundError || status === 404 || status === 405 || status === 400) {
    return new NotFoundError(`${registry} has no catalog API (GET /v2/_catalog): ${err.message}`, { code: err.code, hint: ALTERNATIVE, cause: err });
  }
  return err;
}

export async function listRepositories(client: RegistryClient, opts: ListOptions = {}): Promise<string[]> {
  if (opts.pageSize !== undefined && !(Number.isInteger(opts.pageSize) && opts.pageSize >= 1 && opts.pageSize <= 10_000)) {
    throw new UsageError('--page-size must be a whole number from 1 to 10000');
  }
  const names: string[] = [];
  try {
    for await (const name of client.catalog({ ...(opts.pageSize ? { pageSize: opts.pageSize } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })) names.push(name);
  } catch (e) {
    throw e instanceof FerryError ? cannotList(client.registry, e) : e;
  }
  return names;
}
