import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorCode, FerryError, MediaType, type Descriptor } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { sendJson, startFixture, type FixtureServer } from './fixture-server.js';

// A bearer registry that answers a missing role with a plain 401 (ACR: "authentication
// required" when a token lacks AcrPush, no `insufficient_scope`). The realm issued the
// token, so the credentials are good: the refusal names the role, not the password.
// A fixture, because ACR's answers cannot be had from docker-registry.

const bytes = Buffer.from('a layer');
const desc: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'], size: bytes.length };

describe('a bearer 401 after the realm issued a token', () => {
  let acr: FixtureServer;
  const clients: RegistryClient[] = [];
  const client = (username: string, password: string): RegistryClient => {
    const c = createRegistryClient({ registry: acr.host, plainHttp: true, credentials: { username, password }, retries: 0, env: {}, homeDir: '/nonexistent' });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    acr = await startFixture((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const challenge = { 'www-authenticate': `Bearer realm="${acr.url}/oauth2/token",service="${acr.host}"` };
      if (url.pathname === '/oauth2/token') {
        const good = req.headers.authorization === `Basic ${Buffer.from('reader:reader-pw').toString('base64')}`;
        return good ? sendJson(res, 200, { access_token: 'pull-only', expires_in: 300 }) : sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
      }
      // Every request to the registry: 401 as ACR answers a token without the push role.
      return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required, visit https://aka.ms/acr/authorization for more information.' }] }, challenge);
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await acr?.stop();
  });

  test('valid credentials: ERR_DENIED naming the push role (AcrPush), not the password', async () => {
    const err = await client('reader', 'reader-pw').repository('acr/app', { push: true }).push(desc, Readable.from([bytes])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    const e = err as FerryError;
    expect(e.code).toBe(ErrorCode.denied);
    expect(e.message).toMatch(new RegExp(`^user reader was refused by ${acr.host.replace(/\./g, '\\.')} to push acr/app: the credentials are valid but lack the role to push \\(ACR: AcrPush`));
  });

  test('a wrong password is refused by the realm: ERR_UNAUTHORIZED, check the credentials', async () => {
    const err = await client('reader', 'wrong').repository('acr/app', { push: true }).push(desc, Readable.from([bytes])).catch((e: unknown) => e);
    const e = err as FerryError;
    expect(e.code).toBe(ErrorCode.unauthorized);
    expect(e.message).toMatch(/^user reader was refused by .* to push acr\/app: wrong user or password, or an expired token; check --creds/);
  });
});
