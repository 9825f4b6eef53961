import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDigest, validateTag, type Digest } from '../../core/index.js';
import { ALL_REPOSITORIES, parseRoute, type Route } from '../api/index.js';
import type { Role } from './auth/access.js';
import { principalName, type Need } from './auth/gatekeeper.js';
import type { ResourceScope } from './auth/scope.js';
import type { RequestContext, ServerDeps } from './context.js';
import { getBase } from './handlers/base.js';
import { deleteBlob, getBlob } from './handlers/blobs.js';
import { listCatalog } from './handlers/catalog.js';
import { collectGarbage } from './handlers/gc.js';
import { deleteManifest, getManifest, manifestUnknown, putManifest } from './handlers/manifests.js';
import { listReferrers } from './handlers/referrers.js';
import { listTags } from './handlers/tags.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './handlers/uploads.js';
import { candidateRepositories } from './mirror-namespace.js';
import { isRepositoryName, repositoryName } from './repository-name.js';
import { ServerError } from './respond.js';
import type { ReadTarget } from './store-access.js';

// The route table: path shape (api/routes.ts) × method → the access it needs and
// its handler. Names and blob digests are validated here, once, before any
// handler runs (verdaccio's app.param idea); read-only mode refuses writes here.
// A read names every repository it could be served from (the `?ns=` alias), the
// gatekeeper checks each, and the handler reads only those it allowed; a write
// uses the name as given.

type Handler = (ctx: RequestContext, allowed: readonly string[]) => Promise<void>;
interface Endpoint {
  readonly need: Need;
  readonly write: boolean;
  readonly run: Handler;
}
type Methods = Readonly<Record<string, Endpoint>>;

function digest(text: string): Digest {
  if (!isDigest(text)) throw new ServerError('DIGEST_INVALID', `invalid digest '${text.slice(0, 100)}': expected sha256:<64 hex>`);
  return text;
}

/** A manifest reference to store under: a digest, or a valid tag (400 otherwise). */
function pushReference(text: string): string {
  if (text.includes(':')) return digest(text);
  try {
    return validateTag(text);
  } catch (err) {
    throw new ServerError('TAG_INVALID', (err as Error).message);
  }
}

/** A reference to look up: one that cannot name a manifest names none (404, as the spec allows for GET, HEAD, DELETE). */
function lookupReference(name: string, text: string): string {
  try {
    return pushReference(text);
  } catch {
    throw manifestUnknown(name, text.slice(0, 200));
  }
}

/** Pull on a mount's `from`: not needed (without it the client uploads), but asked for in a challenge. */
function mountScope(name: string, query: URLSearchParams): ResourceScope[] {
  const from = query.get('from');
  if (query.get('mount') === null || from === null || from === name || !isRepositoryName(from)) return [];
  return [{ type: 'repository', name: from, actions: ['pull'] }];
}

const isTrue = (value: string | null): boolean => value !== null && ['1', 'true', 'yes', ''].includes(value.toLowerCase());

function endpoints(route: Route, query: URLSearchParams): Methods {
  const read = (need: Need, run: Handler): Endpoint => ({ need, write: false, run });
  const pull = (n: string, run: (ctx: RequestContext, target: ReadTarget) => Promise<void>): Endpoint => ({
    need: { kind: 'repository', names: candidateRepositories(n, query.get('ns')), action: 'pull' },
    write: false,
    run: (ctx, allowed) => run(ctx, { name: n, repositories: allowed }),
  });
  const write = (n: string, action: Role, run: (ctx: RequestContext) => Promise<void>, wanted: ResourceScope[] = []): Endpoint => ({
    need: { kind: 'repository', names: [n], action, wanted },
    write: true,
    run: (ctx) => run(ctx),
  });
  switch (route.kind) {
    case 'base':
      return { GET: read({ kind: 'base' }, getBase), HEAD: read({ kind: 'base' }, getBase) };
    case 'catalog':
      return { GET: read({ kind: 'catalog' }, listCatalog) };
    case 'tags': {
      const n = repositoryName(route.name);
      return { GET: pull(n, listTags) };
    }
    case 'manifest': {
      const n = repositoryName(route.name);
      const ref = route.reference;
      const get = pull(n, (ctx, target) => getManifest(ctx, target, lookupReference(n, ref)));
      return {
        GET: get,
        HEAD: get,
        PUT: write(n, 'push', (ctx) => putManifest(ctx, n, pushReference(ref))),
        DELETE: write(n, 'delete', (ctx) => deleteManifest(ctx, n, lookupReference(n, ref))),
      };
    }
    case 'blob': {
      const n = repositoryName(route.name);
      const d = digest(route.digest);
      const get = pull(n, (ctx, target) => getBlob(ctx, target, d));
      return { GET: get, HEAD: get, DELETE: write(n, 'delete', (ctx) => deleteBlob(ctx, n, d)) };
    }
    case 'uploads': {
      const n = repositoryName(route.name);
      return { POST: write(n, 'push', (ctx) => startUpload(ctx, n), mountScope(n, query)) };
    }
    case 'upload': {
      const n = repositoryName(route.name);
      const id = route.id;
      return {
        GET: write(n, 'push', (ctx) => uploadStatus(ctx, n, id)),
        PATCH: write(n, 'push', (ctx) => patchUpload(ctx, n, id)),
        PUT: write(n, 'push', (ctx) => finishUpload(ctx, n, id)),
        DELETE: write(n, 'push', (ctx) => cancelUpload(ctx, n, id)),
      };
    }
    case 'referrers': {
      const n = repositoryName(route.name);
      const d = digest(route.digest);
      return { GET: pull(n, (ctx, target) => listReferrers(ctx, target, d)) };
    }
    case 'ferry-gc': {
      // Delete on the repository collected; the whole registry needs delete on `*` (every repository).
      const named = query.get('repository');
      const n = named === null ? undefined : repositoryName(named);
      const dryRun = isTrue(query.get('dry-run'));
      const gc: Endpoint = { ...write(n ?? ALL_REPOSITORIES, 'delete', (ctx) => collectGarbage(ctx, n, dryRun)), write: !dryRun };
      return { POST: gc };
    }
  }
}

export interface RouteOptions {
  readonly readOnly: boolean;
}

/**
 * Authenticates, authorizes and runs the handler for one API request. Throws
 * ServerError (or whatever a handler throws) for server.ts to answer.
 * `onUser` learns who is asking as soon as that is known, for the request log.
 */
export async function routeApiRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: ServerDeps,
  opts: RouteOptions,
  onUser: (user: string | undefined) => void,
): Promise<void> {
  const route = parseRoute(url.pathname);
  if (!route) throw new ServerError('NAME_UNKNOWN', `no API route for ${url.pathname.slice(0, 200)}`, { status: 404 });
  const methods = endpoints(route, url.searchParams);
  const endpoint = methods[req.method ?? ''];
  if (!endpoint) {
    throw new ServerError('UNSUPPORTED', `${req.method ?? ''} is not supported on ${route.kind} routes`, {
      headers: { allow: Object.keys(methods).join(', ') },
    });
  }
  if (endpoint.write && opts.readOnly) {
    throw new ServerError('UNSUPPORTED', 'this registry is read-only: pushes and deletes are refused', {
      headers: { allow: Object.keys(methods).filter((m) => !methods[m]?.write).join(', ') },
    });
  }
  const principal = await deps.gatekeeper.authenticate(req);
  onUser(principalName(principal));
  const allowed = await deps.gatekeeper.authorize(req, principal, endpoint.need);
  await endpoint.run({ req, res, url, deps, principal }, allowed);
}
