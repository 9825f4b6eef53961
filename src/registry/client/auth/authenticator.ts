import { systemClock, type Clock } from '../../../core/clock.js';
import type { Challenge } from './challenge.js';
import { parseChallenges } from './challenge.js';
import type { Credentials } from './credentials.js';
import { ScopeSet, parseScopes, type Scope } from './scope.js';
import { fetchToken, needsRefresh, type BearerToken, type TokenTransport } from './token.js';

// The auth state of one registry host (ggcr transport/bearer.go + basic.go):
// the scheme learnt from the /v2/ ping or a 401, the credentials (resolved once,
// lazily), the accumulated scopes and the current bearer token. Concurrent
// requests share one token fetch. Credentials never leave this object except as
// an Authorization header value.

type Scheme = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

export class Authenticator {
  private scheme: Scheme = { kind: 'none' };
  private readonly scopes = new ScopeSet();
  private token: (BearerToken & { covers: ScopeSet }) | undefined;
  private inflight: Promise<BearerToken & { covers: ScopeSet }> | undefined;
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
    const challenges: Challenge[] = parseChallenges(wwwAuthenticate ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const realm = bearer.params.realm ?? '';
      const service = bearer.params.service;
      const changed = this.scheme.kind !== 'bearer' || this.scheme.realm !== realm || this.scheme.service !== service;
      this.scheme = service === undefined ? { kind: 'bearer', realm } : { kind: 'bearer', realm, service };
      if (changed) this.token = undefined;
      this.scopes.add(parseScopes(bearer.params.scope));
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.scheme = { kind: 'basic' };
      return true;
    }
    return false;
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
    this.scopes.add(scopes);
    const current = this.token;
    if (current && current.covers.covers(scopes) && !needsRefresh(current, this.clock())) return `Bearer ${current.value}`;
    // A fetch already in flight may have started before our scopes were added: then fetch again.
    let fresh = await this.refresh(scheme, creds);
    if (!fresh.covers.covers(scopes)) fresh = await this.refresh(scheme, creds);
    return `Bearer ${fresh.value}`;
  }

  private refresh(scheme: Extract<Scheme, { kind: 'bearer' }>, creds: Credentials | undefined): Promise<BearerToken & { covers: ScopeSet }> {
    if (this.inflight) return this.inflight;
    const covers = this.scopes.clone();
    const p = fetchToken(this.transport, scheme, covers.toStrings(), creds, this.clock)
      .then((t) => {
        this.token = { ...t, covers };
        return this.token;
      })
      .finally(() => {
        if (this.inflight === p) this.inflight = undefined;
      });
    this.inflight = p;
    return p;
  }

  /**
   * After a 401: learn the challenge and decide whether one more try can succeed.
   * `sent` is the Authorization we sent; a fresh token is fetched only if that
   * was the current one (another request may have refreshed it meanwhile).
   */
  async challenged(wwwAuthenticate: string | undefined, scopes: readonly Scope[], sent: string | undefined): Promise<boolean> {
    if (!this.learn(wwwAuthenticate)) return false;
    const creds = await this.credentials();
    if (this.scheme.kind === 'basic') {
      // Basic with the same credentials again would fail the same way.
      return creds?.username !== undefined && sent === undefined;
    }
    if (creds?.registryToken) return sent === undefined;
    this.scopes.add(scopes);
    if (this.token && sent === `Bearer ${this.token.value}`) this.token = undefined;
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
