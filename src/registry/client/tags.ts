import { CATALOG_PATH, tagsPath } from '../api/index.js';
import { CATALOG_SCOPE, repositoryScope } from './auth/scope.js';
import { pages } from './pagination.js';
import type { RepoContext } from './repo-context.js';
import type { HttpClient } from './transport/http-client.js';

// Tag and repository listings. `n` asks for a page size (distribution honours it
// on _catalog; 2.8 sends all tags at once); the Link header drives the rest.

export interface ListOptions {
  /** Page size asked for with `n` (default: the registry's). */
  pageSize?: number;
  signal?: AbortSignal;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** `strict`: a 404 is an error, not an empty list (a registry may answer 404 for a listing it does not offer). */
export async function* listTags(ctx: RepoContext, opts: ListOptions & { strict?: boolean } = {}): AsyncGenerator<string> {
  const first = ctx.http.url(tagsPath(ctx.name));
  if (opts.pageSize) first.searchParams.set('n', String(opts.pageSize));
  // A repository with no tags yet is a 404 NAME_UNKNOWN on distribution: that is an empty list.
  for await (const { doc } of pages({ http: ctx.http, first, scopes: [repositoryScope(ctx.name, 'pull')], signal: opts.signal, ...(opts.strict ? {} : { emptyOn: [404] }) })) {
    yield* strings((doc as { tags?: unknown }).tags);
  }
}

export async function* listCatalog(http: HttpClient, opts: ListOptions = {}): AsyncGenerator<string> {
  const first = http.url(CATALOG_PATH);
  if (opts.pageSize) first.searchParams.set('n', String(opts.pageSize));
  for await (const { doc } of pages({ http, first, scopes: [CATALOG_SCOPE], signal: opts.signal })) {
    yield* strings((doc as { repositories?: unknown }).repositories);
  }
}
