import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { createSelfSignedCert } from './ca.js';
import { parseScope, signRegistryToken, type TokenAccess } from './token-jwt.js';

// A token issuer for distribution's `auth: token` (docs/spec/auth/token.md):
// GET /token?service=&scope= with HTTP basic credentials, and the OAuth2 POST form
// containerd tries first. Counters let tests assert that a client refreshed.

export interface TokenServerOptions {
  readonly username?: string;
  readonly password?: string;
  /** expires_in of each token, seconds (default 300). */
  readonly lifetimeSeconds?: number;
  /** Without credentials: grant pull only (true) or answer 401 (default). */
  readonly anonymousPull?: boolean;
  /** More users (name → password) who get pull and nothing else, whatever they ask for. */
  readonly readers?: Readonly<Record<string, string>>;
  /**
   * Scopes this issuer will not grant to anyone (`registry:catalog:*` for a Harbor
   * non-admin or an ACR token without catalog permission). 'empty' (default)
   * issues a token without their access, as distribution's own issuers do;
   * 'forbidden' answers the token request 403 when it names one.
   */
  readonly refusedScopes?: readonly string[];
  readonly refusal?: 'empty' | 'forbidden';
  /**
   * distribution 2.8 accepts a token up to 60 s past `exp` (clock leeway). With
   * this set, `exp` is moved 60 s earlier so the registry refuses the token when
   * expires_in says it ends; tests of "expired token → refresh" need that.
   */
  readonly registryEnforcesLifetime?: boolean;
  /**
   * The issuer's now (default the system clock). docker-registry judges `nbf`
   * and `exp` by its own clock, so a clock set back issues tokens that are
   * already expired there: how a test sees expiry without sleeping through it.
   */
  readonly clock?: Clock;
}

export interface TokenServerStats {
  readonly issued: number;
  readonly refused: number;
  readonly anonymous: number;
  /** Every scope asked for, in order (one entry per scope). */
  readonly scopes: readonly string[];
  /** Each token request, in order: its scopes, and its size (the GET's path and query, or the POST's form). */
  readonly requests: readonly TokenRequestRecord[];
}

export interface TokenRequestRecord {
  readonly scopes: readonly string[];
  readonly bytes: number;
}

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly username: string;
  readonly password: string;
  readonly rootCertBundlePath: string;
  stats(): TokenServerStats;
  stop(): Promise<void>;
}

const DISTRIBUTION_LEEWAY_SECONDS = 60;

export async function startTokenServer(opts: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-rig-token-'));
  const identity = await createSelfSignedCert(dir, 'ferry-test-token-signer');
  const username = opts.username ?? 'ferry-user';
  const password = opts.password ?? 'ferry-pass';
  const lifetime = opts.lifetimeSeconds ?? 300;
  const service = 'ferry-test-registry';
  const issuer = 'ferry-test-token-issuer';
  const stats = { issued: 0, refused: 0, anonymous: 0, scopes: [] as string[], requests: [] as TokenRequestRecord[] };
  const clock = opts.clock ?? systemClock;
  const refused = new Set(opts.refusedScopes ?? []);
  /** A token request the issuer answers 403: it names a refused scope, and refusal is 'forbidden'. */
  const forbidden = (scopes: readonly string[]): boolean => opts.refusal === 'forbidden' && scopes.some((s) => refused.has(s));

  const grant = (res: ServerResponse, subject: string | undefined, scopes: readonly string[]): void => {
    stats.scopes.push(...scopes);
    const access: TokenAccess[] = [];
    const pullOnly = !subject || subject !== username;
    for (const s of scopes) {
      if (refused.has(s)) continue;
      const parsed = parseScope(s);
      if (!parsed) continue;
      access.push(pullOnly ? { ...parsed, actions: parsed.actions.filter((a) => a === 'pull') } : parsed);
    }
    if (!subject) stats.anonymous += 1;
    stats.issued += 1;
    const now = clock();
    const token = signRegistryToken(identity, {
      issuer,
      subject: subject ?? '',
      audience: service,
      access,
      lifetimeSeconds: lifetime,
      expiryShiftSeconds: opts.registryEnforcesLifetime ? -DISTRIBUTION_LEEWAY_SECONDS : 0,
      nowSeconds: Math.floor(now / 1000),
    });
    const issuedAt = new Date(now).toISOString();
    sendJson(res, 200, { token, access_token: token, expires_in: lifetime, issued_at: issuedAt });
  };
  const refuse = (res: ServerResponse, status: number, error: string): void => {
    stats.refused += 1;
    res.setHeader('www-authenticate', `Basic realm="${issuer}"`);
    sendJson(res, status, { error });
  };

  /** The user these credentials belong to: the main one, or a reader. */
  const known = (user: string | null, pass: string | null): string | undefined => {
    if (user === username && pass === password) return user;
    return user !== null && opts.readers?.[user] !== undefined && opts.readers[user] === pass ? user : undefined;
  };
  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => sendJson(res, 500, { error: String(e) }));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') return sendJson(res, 404, { error: 'not found' });
    if (req.method === 'POST') {
      // OAuth2 password grant (containerd); other grants → 400 makes containerd fall back to GET.
      const body = await readBody(req);
      const form = new URLSearchParams(body);
      stats.requests.push({ scopes: splitScopes(form.getAll('scope')), bytes: Buffer.byteLength(body) });
      if (form.get('grant_type') !== 'password') return sendJson(res, 400, { error: 'unsupported_grant_type' });
      const user = known(form.get('username'), form.get('password'));
      if (!user) return refuse(res, 401, 'invalid credentials');
      if (forbidden(splitScopes(form.getAll('scope')))) return refuse(res, 403, 'access denied');
      return grant(res, user, splitScopes(form.getAll('scope')));
    }
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    const scopes = splitScopes(url.searchParams.getAll('scope'));
    stats.requests.push({ scopes, bytes: Buffer.byteLength(req.url ?? '') });
    const creds = basicCredentials(req.headers.authorization);
    if (!creds) return opts.anonymousPull ? grant(res, undefined, scopes) : refuse(res, 401, 'credentials required');
    const user = known(creds.user, creds.pass);
    if (!user) return refuse(res, 401, 'invalid credentials');
    if (forbidden(scopes)) return refuse(res, 403, 'access denied');
    return grant(res, user, scopes);
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    username,
    password,
    rootCertBundlePath: identity.certPath,
    stats: () => ({ ...stats, scopes: [...stats.scopes], requests: [...stats.requests] }),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function splitScopes(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(' ')).filter((s) => s.length > 0);
}

function basicCredentials(header: string | undefined): { user: string; pass: string } | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
