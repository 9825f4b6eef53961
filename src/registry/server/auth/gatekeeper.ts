import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../../core/clock.js';
import { ALL_REPOSITORIES, Header } from '../../api/index.js';
import { ServerError } from '../respond.js';
import { rolesFor, type Role } from './access.js';
import { formatScope, type Action, type ResourceScope } from './scope.js';
import { tokenActions, tokenHasCatalog, verifyToken, type TokenClaims } from './token.js';
import type { UsersSource } from './users-source.js';
import type { UserEntry } from './users-file.js';

// Who is asking, and may they? One object answers both for every route: it reads
// Basic or Bearer credentials, and turns a refusal into 401 + challenge (no or
// insufficient credentials: the client should log in or fetch a wider token) or
// 403 DENIED (the user is known and simply lacks the role).

export type Principal =
  | { readonly kind: 'open' }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'basic'; readonly user: UserEntry }
  | { readonly kind: 'bearer'; readonly claims: TokenClaims };

/**
 * What a route needs: the API root, the catalog, or one action on a repository.
 * A read may name several repositories (the `?ns=` alias: each candidate the
 * content could be read from); it is allowed on those the principal may act on,
 * and only those are read. `wanted` is access the request can use but does not
 * need (a mount's `from`): asked for in a challenge, never required.
 */
export type Need =
  | { readonly kind: 'base' }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'repository'; readonly names: readonly string[]; readonly action: Role; readonly wanted?: readonly ResourceScope[] };

export interface GatekeeperOptions {
  /** Without users everybody may do everything (loopback only; options.ts enforces that). */
  readonly users: UsersSource | undefined;
  readonly anonymousPull: boolean;
  readonly tokenSecret: Buffer;
  readonly service: string;
  /** Which challenge to send: bearer (token endpoint; what Docker, containerd, podman expect) or basic. */
  readonly challenge: 'bearer' | 'basic';
  /** The token endpoint URL as clients reach it (depends on the Host they used). */
  readonly realm: (req: IncomingMessage) => string;
  /** Now, for token expiry. */
  readonly clock: Clock;
}

/** The name to log for a principal; never a credential. */
export function principalName(p: Principal): string | undefined {
  if (p.kind === 'basic') return p.user.name;
  if (p.kind === 'bearer') return p.claims.sub === '' ? undefined : p.claims.sub;
  return undefined;
}

function parseBasic(value: string): { name: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon <= 0 ? undefined : { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class Gatekeeper {
  private readonly opts: GatekeeperOptions;

  constructor(opts: GatekeeperOptions) {
    this.opts = opts;
  }

  /** Reads the Authorization header; bad credentials are a 401 right away. */
  async authenticate(req: IncomingMessage): Promise<Principal> {
    if (!this.opts.users) return { kind: 'open' };
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (header === '' || space < 0) return { kind: 'anonymous' };
    if (scheme === 'basic') {
      const creds = parseBasic(value);
      const user = creds && (await this.opts.users.authenticate(creds.name, creds.password));
      if (!user) throw this.unauthorized(req, [], 'invalid username or password');
      return { kind: 'basic', user };
    }
    if (scheme === 'bearer') {
      const claims = verifyToken(this.opts.tokenSecret, value, this.opts.service, this.opts.clock());
      if (!claims) throw this.unauthorized(req, [], 'invalid or expired token', 'invalid_token');
      return { kind: 'bearer', claims };
    }
    return { kind: 'anonymous' };
  }

  /**
   * Throws 401/403 unless `principal` may do `need`; returns the repositories of
   * `need` it may act on, in order (none for the root and the catalog).
   */
  async authorize(req: IncomingMessage, principal: Principal, need: Need): Promise<string[]> {
    if (principal.kind === 'open') return need.kind === 'repository' ? [...need.names] : [];
    if (need.kind === 'base') {
      if (principal.kind === 'anonymous') throw this.unauthorized(req, [], 'authentication required');
      return [];
    }
    if (need.kind === 'catalog') {
      const ok = principal.kind === 'basic' || (principal.kind === 'bearer' && tokenHasCatalog(principal.claims));
      if (!ok) throw this.unauthorized(req, [{ type: 'registry', name: 'catalog', actions: ['*'] }], 'authentication required');
      return [];
    }
    const allowed: string[] = [];
    for (const name of need.names) if (await this.can(principal, name, need.action)) allowed.push(name);
    if (allowed.length > 0) return allowed;
    throw await this.refusal(req, principal, need);
  }

  /** Why a repository need is refused: 401 (log in, or fetch a wider token) or 403 (the user lacks the role). */
  private async refusal(req: IncomingMessage, principal: Principal, need: Need & { kind: 'repository' }): Promise<ServerError> {
    const actions: Action[] = need.action === 'push' ? ['pull', 'push'] : [need.action];
    const scopes: ResourceScope[] = [...need.names.map((name): ResourceScope => ({ type: 'repository', name, actions })), ...(need.wanted ?? [])];
    if (principal.kind === 'anonymous') return this.unauthorized(req, scopes, 'authentication required');
    if (principal.kind === 'bearer') {
      // An anonymous token, or one narrower than its user's rights: send the client back for a (wider) token.
      let couldHave = principal.claims.sub === '';
      for (const name of need.names) couldHave ||= (await this.roles(principal, name)).has(need.action);
      if (couldHave) return this.unauthorized(req, scopes, 'token does not grant this access', 'insufficient_scope');
    }
    const what = need.names.length === 1 && need.names[0] === ALL_REPOSITORIES ? 'in every repository' : need.names.join(' or ');
    return new ServerError('DENIED', `${principalName(principal) ?? 'anonymous'} may not ${need.action} ${what}`);
  }

  /** May `principal` do `action` on repository `name` right now? */
  async can(principal: Principal, name: string, action: Role): Promise<boolean> {
    if (principal.kind === 'open') return true;
    if (principal.kind === 'bearer') {
      const actions = tokenActions(principal.claims, name);
      return actions.has(action) || actions.has('*') || (action === 'pull' && actions.has('push'));
    }
    return (await this.roles(principal, name)).has(action);
  }

  /**
   * The roles the users file (or anonymousPull) gives `principal` on `name`,
   * whatever its token says: what the token endpoint may grant, and what the
   * catalog lists.
   */
  async roles(principal: Principal, name: string): Promise<Set<Role>> {
    if (principal.kind === 'open') return new Set<Role>(['pull', 'push', 'delete']);
    const userName = principal.kind === 'basic' ? principal.user.name : principal.kind === 'bearer' ? principal.claims.sub : '';
    const user = userName === '' ? undefined : await this.opts.users?.user(userName);
    if (user) return rolesFor(user.access, name);
    return new Set<Role>(this.opts.anonymousPull ? ['pull'] : []);
  }

  /** A 401 with the challenge clients answer by logging in or fetching a token for `scopes`. */
  unauthorized(req: IncomingMessage, scopes: readonly ResourceScope[], message: string, error?: string): ServerError {
    let challenge: string;
    if (this.opts.challenge === 'basic') challenge = `Basic realm="${this.opts.service}"`;
    else {
      challenge = `Bearer realm="${this.opts.realm(req)}",service="${this.opts.service}"`;
      // Several scopes are space-separated in one parameter (distribution, containerd).
      if (scopes.length > 0) challenge += `,scope="${scopes.map(formatScope).join(' ')}"`;
      if (error) challenge += `,error="${error}"`;
    }
    return new ServerError('UNAUTHORIZED', message, { headers: { [Header.wwwAuthenticate]: challenge } });
  }
}
