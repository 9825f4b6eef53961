import { CATALOG_PATH, Header } from '../../api/index.js';
import type { RequestContext } from '../context.js';
import { nextLink, parsePageRequest } from '../pagination.js';
import { sendJson } from '../respond.js';

/**
 * GET /v2/_catalog[?n=&last=] — repositories the caller may pull, sorted and
 * paginated. With access rules a store page can hold repositories the caller may
 * not see, so pages are read until `n` visible names are found.
 */
export async function listCatalog(ctx: RequestContext): Promise<void> {
  const { n, last } = parsePageRequest(ctx.url.searchParams);
  const { store, gatekeeper } = ctx.deps;
  const visible: string[] = [];
  let cursor = last;
  let more = n > 0;
  while (more && visible.length < n) {
    const page = store.listRepositories({ n: n - visible.length, last: cursor });
    for (const repo of page.items) {
      if ((await gatekeeper.roles(ctx.principal, repo)).has('pull')) visible.push(repo);
    }
    cursor = page.next;
    more = page.next !== undefined;
  }
  const headers = more && visible.length > 0 ? { [Header.link]: nextLink(CATALOG_PATH, n, visible[visible.length - 1] ?? '') } : {};
  sendJson(ctx.req, ctx.res, 200, { repositories: visible }, headers);
}
