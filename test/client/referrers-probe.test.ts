import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { digestHex, type Descriptor } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { startFixture, type FixtureServer } from './fixture-server.js';

// Referrer look-ups started while the referrers API's presence is unknown wait for the first
// probe (referrers.ts). A probe that fails must not fail them or settle the question: they ask
// in their turn, and find what the tag schema lists. A registry that fails the first referrers
// request (500) and answers 404 (no API) afterwards; the tag schema lists one referrer of `b`.

const sha = (s: string): Descriptor['digest'] => `sha256:${createHash('sha256').update(s).digest('hex')}` as Descriptor['digest'];
const subject = (name: string): Descriptor => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(name), size: 10 });
const [a, b, c] = [subject('a'), subject('b'), subject('c')];
const referrer: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha('sbom'), size: 20, artifactType: 'application/spdx+json' };
const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [referrer] });

describe('a failed referrers-API probe', () => {
  let registry: FixtureServer;
  let client: RegistryClient;
  let apiCalls = 0;
  let failedAt = 0;
  const askedAt: number[] = [];

  beforeAll(async () => {
    registry = await startFixture(async (req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/') return void res.end('{}');
      if (url.startsWith('/v2/r/referrers/')) {
        apiCalls += 1;
        askedAt.push(Date.now());
        // The first probe fails late: the look-ups started meanwhile are waiting on it.
        if (apiCalls === 1) {
          return void setTimeout(() => {
            failedAt = Date.now();
            res.writeHead(500).end('{"errors":[{"code":"UNKNOWN","message":"boom"}]}');
          }, 100);
        }
        return void res.writeHead(404).end();
      }
      if (url === `/v2/r/manifests/sha256-${digestHex(b.digest)}`) {
        return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', 'docker-content-digest': sha(index) }).end(index);
      }
      res.writeHead(404).end();
    });
    client = createRegistryClient({ registry: registry.host, plainHttp: true, retries: 0 });
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  test('fails its own look-up only: those waiting on it ask in their turn and find the tag schema\'s referrers', async () => {
    const repo = client.repository('r');
    const list = async (s: Descriptor): Promise<string[]> => {
      const out: string[] = [];
      for await (const d of repo.referrers(s, { cosignTags: false })) out.push(d.digest);
      return out;
    };
    const [first, second, third] = await Promise.allSettled([list(a), list(b), list(c)]);
    expect(first.status).toBe('rejected');
    expect(second).toEqual({ status: 'fulfilled', value: [referrer.digest] });
    expect(third).toEqual({ status: 'fulfilled', value: [] });
    // The failed probe, then the waiting look-ups' own (one or both, as they woke).
    expect(apiCalls).toBeGreaterThanOrEqual(2);
    // Each waited for the failed probe: none asked before it had failed (without the wait, all three at once).
    const asked = registry.seen.filter((r) => r.url.startsWith('/v2/r/referrers/')).map((r) => r.url.split('/').pop());
    expect(asked[0]).toBe(a.digest);
    expect(askedAt.slice(1).every((t) => t >= failedAt)).toBe(true);
  });
});
