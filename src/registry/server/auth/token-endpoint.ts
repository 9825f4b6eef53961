import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../core/clock.js';
import { ALL_REPOSITORIES } from '../../api/index.js';
import { isRepositoryName } from '../repository-name.js';
import { readSmallBody } from '../request-body.js';
import { ServerError, sendJson } from '../respond.js';
import type { Role } from './access.js';
import type { Gatekeeper, Principal } from './gatekeeper.js';
import { parseScopes, type Action, type ResourceScope } from './scope.js';
import { issueToken } from './token.js';
import type { UsersSource } from './users-source.js';

// The token endpoint named by the Bearer challenge's realm (distribution
// docs/spec/auth/token.md, oauth.md). GET with Basic credentials (Docker, skopeo,
// podman) or POST grant_type=password (containerd tries it first). The token
// grants each requested action only when the users file gives that role.

export interface TokenEndpointOptions {
  readonly gatekeeper: Gatekeeper;
  readonly users: UsersSource | undefined;
  readonly anonymousPull: boolean;
  readonly secret: Buffer;
  readonly service: string;
  readonly ttlSeconds: number;
  /** Now, for the token's iat and exp. */
  readonly clock: Clock;
}

const MAX_FORM_BYTES = 64 * 1024;

async function grant(opts: TokenEndpointOptions, principal: Principal, requested: readonly ResourceScope[]): Promise<ResourceScope[]> {
  const granted: ResourceScope[] = [];
  for (const scope of requested) {
    if (scope.type === 'registry') {
      const known = principal.kind !== 'anonymous' || opts.anonymousPull;
      if (scope.name === 'catalog' && scope.actions.includes('*') && known) granted.push({ type: 'registry', name: 'catalog', actions: ['*'] });
      continue;
    }
    // The exact name asked for, checked as the API checks a path: no patterns, no aliases.
    // `repository:*:delete` is the whole-registry GC (/ferry/v1/gc): only a `*` rule with delete grants it.
    const all = scope.name === ALL_REPOSITORIES;
    if (!all && !isRepositoryName(scope.name)) continue;
    const roles = await opts.gatekeeper.roles(principal, scope.name);
    const asked: readonly Role[] = scope.actions.includes('*') ? ['pull', 'push', 'delete'] : scope.actions.filter((a): a is Role => a !== '*');
    const wanted = all ? asked.filter((a) => a === 'delete') : asked;
    const actions: Action[] = wanted.filter((a) => roles.has(a));
    if (actions.length > 0) granted.push({ type: 'repository', name: scope.name, actions });
  }
  return granted;
}

async function principalOf(req: IncomingMessage, opts: TokenEndpointOptions, form: URLSearchParams | undefined): Promise<Principal> {
  if (form && form.get('grant_type') !== 'password') {
    throw new ServerError('UNSUPPORTED', `grant_type '${(form.get('grant_type') ?? '').slice(0, 40)}' is not supported; use password`, { status: 400 });
  }
  if (form && opts.users) {
    const user = await opts.users.authenticate(form.get('username') ?? '', form.get('password') ?? '');
    if (!user) throw opts.gatekeeper.unauthorized(req, [], 'invalid username or password');
    return { kind: 'basic', user };
  }
  const principal = await opts.gatekeeper.authenticate(req);
  if (principal.kind === 'bearer') throw opts.gatekeeper.unauthorized(req, [], 'present a username and password to get a token');
  if (principal.kind === 'anonymous' && !opts.anonymousPull) throw opts.gatekeeper.unauthorized(req, [], 'authentication required');
  return principal;
}

/** Answers GET/POST /token; `query` is the request's search parameters. */
export async function handleTokenRequest(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, opts: TokenEndpointOptions): Promise<void> {
  let form: URLSearchParams | undefined;
  if (req.method === 'POST') {
    const body = await readSmallBody(req, MAX_FORM_BYTES);
    if (!body) throw new ServerError('UNSUPPORTED', `token request larger than ${MAX_FORM_BYTES} bytes`, { status: 413 });
    form = new URLSearchParams(body.toString('utf8'));
  } else if (req.method !== 'GET') {
    throw new ServerError('UNSUPPORTED', `${req.method ?? ''} /token is not supported`);
  }
  const service = (form ?? query).get('service');
  if (service !== null && service !== opts.service) {
    throw new ServerError('DENIED', `this token endpoint serves '${opts.service}', not '${service.slice(0, 80)}'`, { status: 400 });
  }
  const principal = await principalOf(req, opts, form);
  const scopes = form ? form.getAll('scope') : query.getAll('scope');
  const access = await grant(opts, principal, parseScopes(scopes));
  const subject = principal.kind === 'basic' ? principal.user.name : '';
  const { token, claims } = issueToken(opts.secret, { subject, service: opts.service, access, ttlSeconds: opts.ttlSeconds, now: opts.clock() });
  const issuedAt = new Date(claims.iat * 1000).toISOString();
  sendJson(req, res, 200, { token, access_token: token, expires_in: opts.ttlSeconds, issued_at: issuedAt }, { 'cache-control': 'no-store' });
}
