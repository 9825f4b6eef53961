import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MediaType, type Descriptor } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { decodeTokenClaims, type TokenAccess } from '../rig/token-jwt.js';
import type { TokenRequestRecord } from '../rig/token-server.js';
import { forwardTo, startFixture, type FixtureServer } from './fixture-server.js';

// What each token request asks for, counted at the rig's token issuer in front
// of a real docker-registry (issue 16): a token per scope set, the set one
// request needs. A catalog listing's `registry:catalog:*` rides on no later
// repository token; a token request carries one repository's scopes however
// many repositories came before it; a cross-repository mount's one token
// carries push on the target and pull on the source, and nothing else. A 401
// whose challenge names more than the request asked for (a registry in front of
// docker-registry that wants pull on a second repository) grows that request's
// set only: its retry's token carries the extra scope, no other set's does.

const blobOf = (text: string): { desc: Descriptor; bytes: Buffer } => {
  const bytes = Buffer.from(`token-scopes ${text}\n`);
  const desc = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length } as Descriptor;
  return { desc, bytes };
};

describe.skipIf(!rigContext().available)('a bearer token per scope set', () => {
  let registry: Registry;
  const clients: RegistryClient[] = [];
  const client = (): RegistryClient => {
    const c = createRegistryClient({
      registry: registry.host,
      plainHttp: true,
      credentials: { username: registry.tokenServer?.username ?? '', password: registry.tokenServer?.password ?? '' },
    });
    clients.push(c);
    return c;
  };
  /** The token requests made since `from` (an index into the issuer's log). */
  const requestsSince = (from: number): TokenRequestRecord[] => (registry.tokenServer?.stats().requests ?? []).slice(from);
  const logged = (): number => registry.tokenServer?.stats().requests.length ?? 0;
  const push = async (c: RegistryClient, repository: string, text: string): Promise<Descriptor> => {
    const { desc, bytes } = blobOf(text);
    await c.repository(repository, { push: true }).push(desc, Readable.from([bytes]));
    return desc;
  };

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await registry?.stop();
  });

  test('after a catalog listing, repository token requests do not carry registry:catalog:*', async () => {
    const c = client();
    const from = logged();
    for await (const name of c.catalog()) expect(name).toBeTypeOf('string');
    const afterCatalog = logged();
    await push(c, 'scopes/after-catalog', 'after-catalog');
    expect(requestsSince(from).slice(0, afterCatalog - from).map((r) => r.scopes)).toEqual([['registry:catalog:*']]);
    const later = requestsSince(afterCatalog);
    expect(later.length).toBeGreaterThan(0);
    expect(later.map((r) => r.scopes)).toEqual(later.map(() => ['repository:scopes/after-catalog:pull,push']));
  });

  test('a token request carries its own repository only, however many came before (50 repositories)', async () => {
    const c = client();
    const from = logged();
    const names = Array.from({ length: 50 }, (_, i) => `scopes/many-${String(i).padStart(2, '0')}`);
    for (let i = 0; i < names.length; i += 8) await Promise.all(names.slice(i, i + 8).map((name) => push(c, name, name)));
    const requests = requestsSince(from);
    expect(requests.map((r) => r.scopes.length)).toEqual(requests.map(() => 1));
    expect(new Set(requests.map((r) => r.scopes[0]))).toEqual(new Set(names.map((n) => `repository:${n}:pull,push`)));
    // Concurrent requests for one set share its fetch: one token per repository.
    expect(requests).toHaveLength(names.length);
  });

  test('a cross-repository mount asks one token for push on the target and pull on the source, and nothing else', async () => {
    const c = client();
    const desc = await push(c, 'scopes/mount-source', 'mounted');
    await push(c, 'scopes/mount-other', 'other');
    const from = logged();
    expect(await c.repository('scopes/mount-target', { push: true }).mount(desc, 'scopes/mount-source')).toBe(true);
    expect(requestsSince(from).map((r) => r.scopes)).toEqual([['repository:scopes/mount-source:pull', 'repository:scopes/mount-target:pull,push']]);
    expect(await client().repository('scopes/mount-target').exists(desc)).toBe(true);
  });

  test("a 401 challenge naming an extra scope: it joins that request's set only, and the retry succeeds", async () => {
    const server = registry.tokenServer;
    if (!server) throw new Error('no token server');
    const extra = 'scopes/challenge-extra';
    const desc = await push(client(), 'scopes/challenged', 'challenged');
    await push(client(), extra, 'extra');
    const proxy = await startExtraScopeProxy(new URL(registry.url), `/v2/scopes/challenged/blobs/${desc.digest}`, extra, `Bearer realm="${server.realm}",service="${server.service}",scope="repository:scopes/challenged:pull repository:${extra}:pull"`);
    try {
      const c = createRegistryClient({ registry: proxy.host, plainHttp: true, credentials: { username: server.username, password: server.password } });
      clients.push(c);
      const from = logged();
      expect(await c.repository('scopes/challenged').exists(desc)).toBe(true);
      expect(proxy.challenged()).toBe(1);
      expect(requestsSince(from).map((r) => r.scopes)).toEqual([['repository:scopes/challenged:pull'], ['repository:scopes/challenge-extra:pull', 'repository:scopes/challenged:pull']]);
      // Another request's set does not gain it: pull on the extra repository, push on the challenged one.
      const after = logged();
      expect(await c.repository(extra).exists(desc)).toBe(false);
      await push(c, 'scopes/challenged', 'challenged again');
      expect(requestsSince(after).map((r) => r.scopes)).toEqual([['repository:scopes/challenge-extra:pull'], ['repository:scopes/challenged:pull,push']]);
      // The challenged set keeps its grown token: the same request again fetches none and is not refused.
      const again = logged();
      expect(await c.repository('scopes/challenged').exists(desc)).toBe(true);
      expect(requestsSince(again)).toEqual([]);
      expect(proxy.challenged()).toBe(1);
    } finally {
      await proxy.stop();
    }
  });
});

interface ExtraScopeProxy extends FixtureServer {
  /** Requests answered 401 so far. */
  challenged(): number;
}

/**
 * A pass-through proxy in front of a real docker-registry that wants more than a
 * client asks for: a request for `path` whose bearer token lacks pull on
 * `extra` is answered 401 with `challenge` (which names that scope); all else,
 * and the request once its token carries it, is the registry's.
 */
async function startExtraScopeProxy(upstream: URL, path: string, extra: string, challenge: string): Promise<ExtraScopeProxy> {
  let challenged = 0;
  const carries = (authorization: string | undefined): boolean => {
    if (!authorization?.startsWith('Bearer ')) return false;
    const access = (decodeTokenClaims(authorization.slice(7)).access ?? []) as TokenAccess[];
    return access.some((a) => a.type === 'repository' && a.name === extra && a.actions.includes('pull'));
  };
  const server = await startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === path && !carries(req.headers.authorization)) {
      challenged += 1;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    await forwardTo(upstream, url, req, res);
  });
  return Object.assign(server, { challenged: () => challenged });
}
