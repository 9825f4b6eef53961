import { NotFoundError } from '../../../core/index.js';
import { tagsPath, Header } from '../../api/index.js';
import type { RequestContext } from '../context.js';
import { nextLink, parsePageRequest } from '../pagination.js';
import { ServerError, sendJson } from '../respond.js';
import { readFromRepository, type ReadTarget } from '../store-access.js';

/** GET /v2/<name>/tags/list[?n=&last=] — sorted, paginated with a Link header. */
export async function listTags(ctx: RequestContext, target: ReadTarget): Promise<void> {
  const { name } = target;
  const { n, last } = parsePageRequest(ctx.url.searchParams);
  const page =
    n === 0
      ? { items: [], next: undefined }
      : await readFromRepository(ctx, target, (repo) => ctx.deps.store.listTags(repo.name, { n, last })).catch((err: unknown) => {
          throw err instanceof NotFoundError ? new ServerError('NAME_UNKNOWN', `repository ${name} is not known`, { detail: { name } }) : err;
        });
  // The next page must list the same repository: the link keeps `ns`.
  const ns = ctx.url.searchParams.get('ns');
  const link = page.next === undefined ? undefined : nextLink(tagsPath(name), n, page.next, ns === null ? {} : { ns });
  const headers = link === undefined ? {} : { [Header.link]: link };
  sendJson(ctx.req, ctx.res, 200, { name, tags: page.items }, headers);
}
