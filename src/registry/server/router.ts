import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDigest, validateRepository, validateTag, type Digest } from '../../core/index.js';
import { parseRoute, type Route } from '../api/routes.js';
import type { Role } from './auth/access.js';
import type { Need } from './auth/gatekeeper.js';
import { principalName } from './auth/gatekeeper.js';
import type { RequestContext, ServerDeps } from './context.js';
import { getBase } from './handlers/base.js';
import { deleteBlob, getBlob } from './handlers/blobs.js';
import { listCatalog } from './handlers/catalog.js';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.js';
import { listReferrers } from './handlers/referrers.js';
import { listTags } from './handlers/tags.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './handlers/uploads.js';
import { ServerError } from './respond.js';

// The route table: path shape (api/routes.ts) × method → the access it needs and
// its handler. Names, digests and tags are validated here, once, before any
// handler runs (verdaccio's app.param idea); read-only mode refuses writes here.

type Handler = (ctx: RequestContext) => Promise<void>;
interface Endpoint {
  readonly need: Need;
  readonly write: boolean;
  readonly run: Handler;
}
type Methods = Readonly<Record<string, Endpoint>>;

function name(route: { name: string }): string {
  try {
    return validateRepository(route.name);
  } catch (err) {
    throw new ServerError('NAME_INVALID', (err as Error).message, { detail: { name: route.name.slice(0, 300) } });
  }
}

function digest(text: string): Digest {
  if (!isDigest(text)) throw new ServerError('DIGEST_INVALID', `invalid digest '${text.slice(0, 100)}': expected sha256:<64 hex>`);
  return text;
}

/** A manifest reference: a digest, or a valid tag. */
function reference(text: string): string {
  if (text.includes(':')) return digest(text);
  try {
    return validateTag(text);
  } catch (err) {
    throw new ServerError('TAG_INVALID', (err as Error).message);
  }
}

const repo = (n: string, action: Role): Need => ({ kind: 'repository', name: n, action });

function endpoints(route: Route): Methods {
  const read = (need: Need, run: Handler): Endpoint => ({ need, write: false, run });
  const write = (need: Need, run: Handler): Endpoint => ({ need, write: true, run });
  switch (route.kind) {
    case 'base':
      return { GET: read({ kind: 'base' }, getBase), HEAD: read({ kind: 'base' }, getBase) };
    case 'catalog':
      return { GET: read({ kind: 'catalog' }, listCatalog) };
    case 'tags': {
      const n = name(route);
      return { GET: read(repo(n, 'pull'), (ctx) => listTags(ctx, n)) };
    }
    case 'manifest': {
      const n = name(route);
      const ref = reference(route.reference);
      return {
        GET: read(repo(n, 'pull'), (ctx) => getManifest(ctx, n, ref)),
        HEAD: read(repo(n, 'pull'), (ctx) => getManifest(ctx, n, ref)),
        PUT: write(repo(n, 'push'), (ctx) => putManifest(ctx, n, ref)),
        DELETE: write(repo(n, 'delete'), (ctx) => deleteManifest(ctx, n, ref)),
      };
    }
    case 'blob': {
      const n = name(route);
      const d = digest(route.digest);
      return {
        GET: read(repo(n, 'pull'), (ctx) => getBlob(ctx, n, d)),
        HEAD: read(repo(n, 'pull'), (ctx) => getBlob(ctx, n, d)),
        DELETE: write(repo(n, 'delete'), (ctx) => deleteBlob(ctx, n, d)),
      };
    }
    case 'uploads': {
      const n = name(route);
      return { POST: write(repo(n, 'push'), (ctx) => startUpload(ctx, n)) };
    }
    case 'upload': {
      const n = name(route);
      const id = route.id;
      return {
        GET: write(repo(n, 'push'), (ctx) => uploadStatus(ctx, n, id)),
        PATCH: write(repo(n, 'push'), (ctx) => patchUpload(ctx, n, id)),
        PUT: write(repo(n, 'push'), (ctx) => finishUpload(ctx, n, id)),
        DELETE: write(repo(n, 'push'), (ctx) => cancelUpload(ctx, n, id)),
      };
    }
    case 'referrers': {
      const n = name(route);
      const d = digest(route.digest);
      return { GET: read(repo(n, 'pull'), (ctx) => listReferrers(ctx, n, d)) };
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
  const methods = endpoints(route);
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
  await deps.gatekeeper.check(req, principal, endpoint.need);
  await endpoint.run({ req, res, url, deps, principal });
}
