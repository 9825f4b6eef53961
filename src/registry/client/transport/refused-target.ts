import type { Scope } from '../auth/scope.js';
import { verbOfActions, type Verb } from '../refusals.js';

// What a refused request was for, as a person names it: the repository and
// pull/push/delete. From the /v2/NAME/… path of a registry request, or from the
// scope of a token request (the realm's URL carries `scope=repository:NAME:ACTIONS`).
// The request's own scopes win over its method: the HEAD of a blob during an
// import is part of a push.

export interface RefusedTarget {
  repository?: string;
  action?: Verb;
  listing?: boolean;
}

const RESOURCE = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)(?:\/|$)/;

export function refusedTarget(url: URL, method: string, base: URL, scopes: readonly Scope[] = []): RefusedTarget {
  const scoped = url.searchParams.getAll('scope').flatMap((s) => s.split(' '));
  const asked = scoped.filter((s) => s.startsWith('repository:'));
  // A token for the catalog alone, refused (a token service's 403): the listing, not a pull.
  if (asked.length === 0 && scoped.includes('registry:catalog:*')) return { listing: true };
  if (url.origin !== base.origin || asked.length > 0) {
    // The last scope is the one the request that needed the token added.
    const last = asked.at(-1);
    if (!last) return {};
    const colon = last.lastIndexOf(':');
    const action = verbOfActions(last.slice(colon + 1).split(','));
    return { repository: last.slice('repository:'.length, colon), ...(action ? { action } : {}) };
  }
  if (url.pathname === '/v2/_catalog') return { listing: true };
  const name = RESOURCE.exec(url.pathname)?.[1];
  if (!name) return {};
  const repository = decodeURIComponent(name);
  const own = scopes.find((s) => s.resourceType === 'repository' && s.name === repository);
  const action = (own && verbOfActions(own.actions)) ?? (method === 'DELETE' ? 'delete' : method === 'GET' || method === 'HEAD' ? 'pull' : 'push');
  return { repository, action };
}
