import { systemClock, type Clock } from '../../../core/clock.js';
import { AuthError, ErrorCode } from '../../../core/index.js';
import { readBounded } from '../response-error.js';
import type { HttpResponse, RequestBody } from '../transport/exchange.js';
import type { Credentials } from './credentials.js';

// Trading credentials for a bearer token at the challenge's realm
// (distribution docs/spec/auth/token.md and oauth.md): GET with HTTP basic
// credentials (or none, for anonymous pulls), or the OAuth2 refresh-token POST
// when all we hold is an identity token (ACR, `docker login` with a token).

export interface TokenRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: RequestBody;
}

/** Sends one token request through the client's transport (retries, redirects, trace; no registry auth). */
export type TokenTransport = (req: TokenRequest) => Promise<HttpResponse>;

export interface BearerToken {
  value: string;
  /** ms since epoch, local clock. */
  expiresAt: number;
  lifetimeMs: number;
}

const DEFAULT_LIFETIME_S = 60; // the spec's default when expires_in is absent
const MAX_TOKEN_RESPONSE = 1024 * 1024;

function realmUrl(realm: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new AuthError(`the registry's auth challenge has an invalid realm`, { code: ErrorCode.unauthorized });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthError(`the registry's token realm uses ${url.protocol}`);
  return url;
}

export async function fetchToken(
  send: TokenTransport,
  challenge: { realm: string; service?: string },
  scopes: readonly string[],
  creds: Credentials | undefined,
  clock: Clock = systemClock,
): Promise<BearerToken> {
  const url = realmUrl(challenge.realm);
  const started = clock();
  let res: HttpResponse;
  if (creds?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'ferry' });
    if (challenge.service) form.set('service', challenge.service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const body = form.toString();
    res = await send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
  } else {
    if (challenge.service) url.searchParams.set('service', challenge.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (creds?.username !== undefined && creds.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    res = await send({ method: 'GET', url, headers });
  }
  const text = await readBounded(res, MAX_TOKEN_RESPONSE);
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new AuthError(`the token service at ${url.origin} answered something that is not JSON`);
  }
  const value = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
  if (!value) throw new AuthError(`the token service at ${url.origin} returned no token`);
  // A server that says a token lives 10 s is believed (no 60 s floor): using a
  // token past its end only earns a 401 in the middle of an upload.
  const lifetime = (typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_LIFETIME_S) * 1000;
  // Count from our own clock; use issued_at only when it says the token is older
  // than our request (never trust a server clock to extend a token's life).
  const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : NaN;
  const base = Number.isFinite(issued) && issued < started && started - issued < lifetime ? issued : started;
  return { value, expiresAt: base + lifetime, lifetimeMs: lifetime };
}

/** Is it time to replace this token? A fifth of its life (at most a minute) before it expires. */
export function needsRefresh(token: BearerToken, now: number): boolean {
  return now >= token.expiresAt - Math.min(60_000, token.lifetimeMs / 5);
}
