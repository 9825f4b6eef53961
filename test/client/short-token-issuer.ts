import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCert } from '../rig/ca.js';
import { parseScope, signRegistryToken, type TokenAccess } from '../rig/token-jwt.js';
import type { TokenServer, TokenServerStats } from '../rig/token-server.js';
import { sendJson, startFixture } from './fixture-server.js';

// A token issuer for a real docker-registry (`auth: token`) whose tokens die
// early: the JWT's `exp` makes the registry refuse it after `validSeconds`,
// while `expires_in` tells the client `claimSeconds`. That is an ACR token
// revoked or expired under a long import. It also speaks the OAuth2
// refresh-token grant (identity tokens), which the rig's issuer does not.

const LEEWAY = 60; // distribution 2.8 accepts a JWT this long past exp

export interface ShortTokenIssuer extends TokenServer {
  /** Mutable: how long the registry accepts new tokens, and what expires_in says. */
  settings: { validSeconds: number; claimSeconds: number };
  readonly refreshToken: string;
  readonly requests: Array<{ method: string; grant?: string; scopes: string[]; bytes: number }>;
}

export async function startShortTokenIssuer(): Promise<ShortTokenIssuer> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-client-token-'));
  const identity = await createSelfSignedCert(dir, 'ferry-client-token-signer');
  const username = 'short-user';
  const password = 'short-pass';
  const refreshToken = 'refresh-token-for-ferry';
  const service = 'ferry-short-registry';
  const issuer = 'ferry-short-issuer';
  const settings = { validSeconds: 3600, claimSeconds: 3600 };
  const stats = { issued: 0, refused: 0, anonymous: 0, scopes: [] as string[] };
  const requests: ShortTokenIssuer['requests'] = [];

  const server = await startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    for await (const c of req) body += String(c);
    const form = new URLSearchParams(body);
    const scopes = (req.method === 'POST' ? form.getAll('scope') : url.searchParams.getAll('scope')).flatMap((s) => s.split(' ')).filter(Boolean);
    requests.push({ method: req.method ?? '', ...(req.method === 'POST' ? { grant: form.get('grant_type') ?? '' } : {}), scopes, bytes: Buffer.byteLength(req.method === 'POST' ? body : (req.url ?? '')) });
    let subject: string | undefined;
    if (req.method === 'POST') {
      if (form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === refreshToken) subject = 'identity-user';
    } else {
      const auth = req.headers.authorization ?? '';
      if (auth === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`) subject = username;
    }
    if (!subject) {
      stats.refused++;
      return sendJson(res, 401, { error: 'invalid credentials' });
    }
    stats.issued++;
    stats.scopes.push(...scopes);
    const access = scopes.map(parseScope).filter((a): a is TokenAccess => a !== undefined);
    const token = signRegistryToken(identity, {
      issuer, subject, audience: service, access, lifetimeSeconds: settings.validSeconds, expiryShiftSeconds: -LEEWAY,
    });
    sendJson(res, 200, req.method === 'POST' ? { access_token: token, expires_in: settings.claimSeconds } : { token, expires_in: settings.claimSeconds });
  });
  return {
    realm: `${server.url}/token`,
    service,
    issuer,
    username,
    password,
    rootCertBundlePath: identity.certPath,
    settings,
    refreshToken,
    requests,
    stats: (): TokenServerStats => ({ ...stats, scopes: [...stats.scopes], requests: requests.map(({ scopes, bytes }) => ({ scopes, bytes })) }),
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
