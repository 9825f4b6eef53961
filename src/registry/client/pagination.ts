import { MAX_MANIFEST_BYTES, NetworkError, ErrorCode } from '../../core/index.js';
import type { Scope } from './auth/scope.js';
import { readBounded } from './response-error.js';
import { headerOf, type HttpResponse } from './transport/exchange.js';
import type { HttpClient } from './transport/http-client.js';
import { nextLocation } from './transport/location.js';
import { redactUrl } from './transport/redact.js';

// Paginated JSON lists (tags, _catalog, referrers): follow `Link: <…>; rel="next"`
// until there is none (RFC 8288; distribution, ACR and Harbor page at 100).

/** The target of the rel="next" link in a Link header, or undefined. */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/s.exec(part);
    if (!m) continue;
    for (const param of (m[2] ?? '').split(';')) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'rel') continue;
      const rels = param.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase().split(/\s+/);
      if (rels.includes('next')) return m[1];
    }
  }
  return undefined;
}

const MAX_PAGES = 100_000;
const MAX_PAGE_BYTES = MAX_MANIFEST_BYTES;

export interface PageSpec {
  http: HttpClient;
  first: URL;
  scopes: readonly Scope[];
  accept?: string;
  signal?: AbortSignal | undefined;
  /** Statuses that end the listing with nothing (e.g. 404 for a repository that does not exist yet). */
  emptyOn?: readonly number[];
}

/** Each page as parsed JSON, following Link headers. */
export async function* pages(spec: PageSpec): AsyncGenerator<{ doc: unknown; res: HttpResponse }> {
  let url: URL | undefined = spec.first;
  const seen = new Set<string>();
  for (let n = 0; url && n < MAX_PAGES; n++) {
    if (seen.has(url.href)) throw new NetworkError(`GET ${redactUrl(url)}: pagination loops back to a page already read`, { code: ErrorCode.registry });
    seen.add(url.href);
    const res = await spec.http.request({
      method: 'GET', url, scopes: spec.scopes, ok: [200, ...(spec.emptyOn ?? [])], signal: spec.signal,
      ...(spec.accept ? { headers: { accept: spec.accept } } : {}),
    });
    const text = await readBounded(res, MAX_PAGE_BYTES);
    if (res.status !== 200) return;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new NetworkError(`GET ${redactUrl(url)}: the registry answered a list that is not JSON`, { code: ErrorCode.registry });
    }
    yield { doc, res };
    const next = nextLink(headerOf(res.headers, 'link'));
    url = next ? nextLocation(url, next) : undefined;
  }
}
