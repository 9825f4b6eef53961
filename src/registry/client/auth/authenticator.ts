import { systemClock, type Clock } from '../../../core/clock.js';
import type { Challenge } from './challenge.js';
import { parseChallenges } from './challenge.js';
import type { Credentials } from './credentials.js';
import { ScopeSet, parseScopes, type Scope } from './scope.js';
import { fetchToken, needsRefresh, type BearerToken, type TokenTransport } from './token.js';

// The auth state of one registry host (ggcr transport/bearer.go + basic.go):
// the scheme learnt from the /v2/ ping or a 401, the credentials (resolved once,
// lazily), and a bearer token per scope set: the set one request needs, plus
// what a 401 challenge named for it. A set's token never carries another
// request's scopes, so a token request does not grow with the repositories an
// import or export touches. Concurrent requests for one set share one token
// fetch. Credentials never leave this object except as an Authorization header value.

type Scheme = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

type ScopedToken = BearerToken & { covers: ScopeSet };

/** One scope set's token: what it needs (grown by challenges), the token held and the fetch in flight. */
interface Grant {
  readonly needs: ScopeSet;
  token: ScopedToken | undefined;
  inflight: Promise<ScopedToken> | undefined;
}

/**
 * Scope sets whose tokens are kept, least recently used dropped first. An import
 * of 1,000 repositories touches about 3,100 sets (each repository's, and a
 * mount's target-and-source pair each) over its phases: kept at 256 it fetched
 * 5,172 tokens, at 4,096 one per set (3,094). A token is a few hundred bytes to 2 KiB.
 */
const MAX_GRANTS = 4096;

export class Authenticator {
  private scheme: Scheme = { kind: 'none' };
  /** By the normalised scopes of the request (ScopeSet.key), most recently used last. */
  private readonly grants = new Map<string, Grant>();
  private creds: Promise<Credentials | undefined> | undefined;
  private readonly loadCredentials: () => Promise<Credentials | undefined>;
  private readonly transport: TokenTransport;
  /** Now, for token lifetimes: injectable so a test moves time instead of sleeping. */
  private readonly clock: Clock;

  constructor(loadCredentials: () => Promise<Credentials | undefined>, transport: TokenTransport, clock: Clock = systemClock) {
    this.loadCredentials = loadCredentials;
    this.transport = transport;
    this.clock = clock;
  }

  /** The credentials, resolved on first use and then kept. */
  credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.loadCredentials();
    return this.creds;
  }

  /** Learns the scheme from a /v2/ ping or a 401; false when there is no usable challenge. */
  learn(wwwAuthenticate: string | undefined): boolean {
    return this.read(wwwAuthenticate) !== undefined;
  }

  /** learn(), and the scopes a bearer challenge named (none for basic); undefined when unusable. */
  private read(wwwAuthenticate: string | undefined): Scope[] | undefined {
    const challenges: Challenge[] = parseChallenges(wwwAuthenticate ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const realm = bearer.params.realm ?? '';
      const service = bearer.params.service;
      const changed = this.scheme.kind !== 'bearer' || this.scheme.realm !== realm || this.scheme.service !== service;
      this.scheme = service === undefined ? { kind: 'bearer', realm } : { kind: 'bearer', realm, service };
      if (changed) this.grants.clear();
      return parseScopes(bearer.params.scope);
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.scheme = { kind: 'basic' };
      return [];
    }
    return undefined;
  }

  /** The grant of the set `scopes` make, marked most recently used. */
  private grantFor(scopes: readonly Scope[]): Grant {
    const needs = new ScopeSet(scopes);
    const key = needs.key();
    let grant = this.grants.get(key);
    if (grant) this.grants.delete(key);
    else grant = { needs, token: undefined, inflight: undefined };
    this.grants.set(key, grant);
    if (this.grants.size > MAX_GRANTS) {
      const oldest = this.grants.keys().next().value;
      if (oldest !== undefined) this.grants.delete(oldest);
    }
    return grant;
  }

  get kind(): Scheme['kind'] {
    return this.scheme.kind;
  }

  /** The Authorization header for a request needing `scopes`, or undefined to go anonymous. */
  async authorization(scopes: readonly Scope[]): Promise<string | undefined> {
    const scheme = this.scheme;
    if (scheme.kind === 'none') return undefined;
    const creds = await this.credentials();
    if (scheme.kind === 'basic') {
      if (creds?.username === undefined || creds.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const grant = this.grantFor(scopes);
    const current = grant.token;
    if (current && current.covers.covers(grant.needs) && !needsRefresh(current, this.clock())) return `Bearer ${current.value}`;
    // A fetch already in flight may have started before a challenge grew the set: then fetch again.
    let fresh = await this.refresh(scheme, creds, grant);
    if (!fresh.covers.covers(grant.needs)) fresh = await this.refresh(scheme, creds, grant);
    return `Bearer ${fresh.value}`;
  }

  private refresh(scheme: Extract<Scheme, { kind: 'bearer' }>, creds: Credentials | undefined, grant: Grant): Promise<ScopedToken> {
    if (grant.inflight) return grant.inflight;
    const covers = grant.needs.clone();
    const p = fetchToken(this.transport, scheme, covers.toStrings(), creds, this.clock)
      .then((t) => {
        const token = { ...t, covers };
        grant.token = token;
        return token;
      })
      .finally(() => {
        if (grant.inflight === p) grant.inflight = undefined;
      });
    grant.inflight = p;
    return p;
  }

  /**
   * After a 401: learn the challenge and decide whether one more try can succeed.
   * The scopes the challenge names join the set of this request (`scopes`), and
   * no other's. `sent` is the Authorization we sent; a fresh token is fetched only
   * if that was the set's current one (another request may have refreshed it meanwhile).
   */
  async challenged(wwwAuthenticate: string | undefined, scopes: readonly Scope[], sent: string | undefined): Promise<boolean> {
    const named = this.read(wwwAuthenticate);
    if (!named) return false;
    const creds = await this.credentials();
    if (this.scheme.kind === 'basic') {
      // Basic with the same credentials again would fail the same way.
      return creds?.username !== undefined && sent === undefined;
    }
    if (creds?.registryToken) return sent === undefined;
    const grant = this.grantFor(scopes);
    if (grant.needs.add(named) || (grant.token && sent === `Bearer ${grant.token.value}`)) grant.token = undefined;
    return true;
  }

  /** For messages: what kind of credentials are in use (never their value). */
  async describe(): Promise<string> {
    const c = await this.credentials();
    if (!c) return 'anonymous';
    if (c.identityToken) return 'identity token';
    if (c.registryToken) return 'registry token';
    return `user ${c.username ?? ''}`;
  }
}
