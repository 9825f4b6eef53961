import { ServerError } from './respond.js';

// `n`/`last` pagination of tags/list and _catalog, and the `Link` header that
// points at the next page (distribution-spec "Listing Tags", RFC 8288).

/**
 * Largest page served, whatever `n` asks for; also the page size when `n` is
 * absent. Large on purpose: clients (and distribution 2.x, which does not page
 * tags/list at all) expect a 10,000-tag repository in one answer, and a page
 * per 1,000 cost ten round trips. Bounded all the same: tags are at most 128
 * characters, so a page stays under ~1.4 MB of JSON.
 */
export const MAX_PAGE = 10_000;

export interface PageRequest {
  n: number;
  last: string | undefined;
}

/** Reads `n` and `last` from the query; a bad `n` is PAGINATION_NUMBER_INVALID. */
export function parsePageRequest(query: URLSearchParams): PageRequest {
  const nText = query.get('n');
  let n = MAX_PAGE;
  if (nText !== null && nText !== '') {
    if (!/^[0-9]{1,9}$/.test(nText)) {
      throw new ServerError('PAGINATION_NUMBER_INVALID', `invalid page size n='${nText.slice(0, 20)}': expected a non-negative integer`);
    }
    n = Math.min(Number(nText), MAX_PAGE);
  }
  const last = query.get('last');
  return { n, last: last === null || last === '' ? undefined : last };
}

/** `</v2/…?n=N&last=LAST>; rel="next"` for the page after `next`; `keep` carries parameters that choose what is listed (`ns`). */
export function nextLink(path: string, n: number, next: string, keep: Readonly<Record<string, string>> = {}): string {
  const query = new URLSearchParams({ ...keep, n: String(n), last: next });
  return `<${path}?${query.toString()}>; rel="next"`;
}
