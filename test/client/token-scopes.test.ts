import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MediaType, type Descriptor } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import type { TokenRequestRecord } from '../rig/token-server.js';

// What each token request asks for, counted at the rig's token issuer in front
// of a real docker-registry (issue 16): a token per scope set, the set one
// request needs. A catalog listing's `registry:catalog:*` rides on no later
// repository token; a token request carries one repository's scopes however
// many repositories came before it; a cross-repository mount's one token
// carries push on the target and pull on the source, and nothing else.

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
});
