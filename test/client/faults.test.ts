import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MediaType, NetworkError, type Descriptor } from '../../src/core/index.js';
import { createMemoryTraceSink, createRegistryClient, fetchResumable, type RegistryClient, type RetryInfo } from '../../src/registry/client/index.js';
import { rigContext, seededRig } from '../rig/context.js';
import { foreignUrlPattern } from '../rig/foreign-server.js';
import { IMAGE_KEYS } from '../rig/image-set.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { assertGraphIn, copyImage, verified } from './copy-image.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

// Through a proxy that answers 503s, 429s with Retry-After and cuts blob bodies
// mid-way, every push and pull still completes: idempotent requests are retried
// by the transport, chunk uploads resume from the registry's offset, blob pushes
// are retried whole by their owner, downloads resume with Range.

const MiB = 1024 * 1024;
const bigBytes = Buffer.alloc(4 * MiB);
for (let i = 0; i < bigBytes.length; i += 32) createHash('sha256').update(`big-${i}`).digest().copy(bigBytes, i);
const big: Descriptor = {
  mediaType: MediaType.ociLayerGzip,
  digest: `sha256:${createHash('sha256').update(bigBytes).digest('hex')}` as Descriptor['digest'],
  size: bigBytes.length,
};
const bigPath = `/v2/faults/big/blobs/${big.digest}`;

describe.skipIf(!rigContext().available)('fault injection', () => {
  let target: Registry;
  let proxy: FaultProxy;
  const clients: RegistryClient[] = [];
  const retries: RetryInfo[] = [];
  const viaProxy = (extra: Partial<Parameters<typeof createRegistryClient>[0]> = {}): RegistryClient => {
    const c = createRegistryClient({ registry: proxy.host, plainHttp: true, retries: 6, retryBaseDelayMs: 10, onRetry: (r) => retries.push(r), ...extra });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const rig = seededRig();
    target = await startRegistry({ allowForeignUrls: [foreignUrlPattern(rig.foreign.url)] });
    let first429 = true;
    let bigPatches = 0;
    proxy = await startFaultProxy(new URL(target.url), {
      pick: (n, req) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const blobGet = req.method === 'GET' && path.includes('/blobs/sha256:');
        if (blobGet && path === bigPath && !req.headers.range) return 'cut';
        // The second chunk of the big upload fails once: the uploader must ask for the offset and go on.
        if (req.method === 'PATCH' && path.startsWith('/v2/faults/big/') && ++bigPatches === 2) return '503';
        // Resumed (Range) reads are spared, so each cut costs exactly one resume.
        if (blobGet && !req.headers.range && n % 4 === 0) return 'cut';
        if (n % 7 === 0) return '503';
        if (n % 11 === 0) return '429';
        return 'forward';
      },
      // The first 429 of a request the transport may retry says "1 s"; the rest "0".
      retryAfter: (_n, req) => {
        if (!first429 || (req.method !== 'GET' && req.method !== 'HEAD')) return '0';
        first429 = false;
        return '1';
      },
      cutAfter: (length, path) => (path === bigPath ? MiB : Math.floor(length / 2)),
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await proxy?.stop();
    await target?.stop();
  });

  test('pushes complete: every image, and a 4 MiB blob in 1 MiB chunks', async () => {
    const rig = seededRig();
    const source = createRegistryClient({ registry: rig.source.host, plainHttp: true });
    clients.push(source);
    const trace = createMemoryTraceSink();
    const pusher = viaProxy({ chunkSize: MiB, monolithicThreshold: 2 * MiB, trace });
    for (const key of IMAGE_KEYS) {
      const image = rig.images.images[key];
      const src = source.repository(image.repository);
      const root = await src.resolve(image.tag ?? image.digest);
      await copyImage(src, pusher.repository(image.repository), root, {
        tags: image.tag ? [image.tag] : [],
        retries: 8,
        fetchForeign: (d) => source.fetchUrl(d.urls?.[0] ?? ''),
      });
    }
    const bigRepo = pusher.repository('faults/big');
    for (let attempt = 0; ; attempt++) {
      try {
        await bigRepo.push(big, Readable.from([bigBytes.subarray(0, MiB + 7), bigBytes.subarray(MiB + 7)]));
        break;
      } catch (e) {
        if (attempt >= 8) throw e;
      }
    }
    expect(await bigRepo.exists(big)).toBe(true);
    const upload = trace.records.filter((r) => r.url.includes('/v2/faults/big/blobs/uploads/'));
    expect(upload.filter((r) => r.method === 'PATCH' && r.status === 503).length).toBeGreaterThanOrEqual(1);
    expect(upload.filter((r) => r.method === 'GET' && r.status === 204).length).toBeGreaterThanOrEqual(1);
    // One session from POST to PUT: the chunks resumed in place, nothing restarted.
    expect(upload.filter((r) => r.method === 'POST' && r.status === 202)).toHaveLength(1);
    expect(upload.filter((r) => r.method === 'PATCH' && r.status === 202)).toHaveLength(4);
    expect(proxy.stats.faults['503']).toBeGreaterThan(0);
    expect(proxy.stats.faults['429']).toBeGreaterThan(0);
    // The first 429 said Retry-After: 1, and that is what the client waited.
    expect(retries.find((r) => r.reason === 'HTTP 429')?.delayMs).toBe(1000);
  });

  test('pulls complete, and a cut download resumes with Range instead of starting over', async () => {
    const rig = seededRig();
    const reader = viaProxy();
    for (const key of IMAGE_KEYS) {
      const image = rig.images.images[key];
      const repo = reader.repository(image.repository);
      const root = await repo.resolve(image.tag ?? image.digest);
      expect(root.digest).toBe(image.digest);
      // Walk with resumable blob reads: the proxy cuts every fourth blob body.
      const resilient = Object.assign(Object.create(repo) as typeof repo, {
        fetch: (d: Descriptor) => Promise.resolve(fetchResumable((x, o) => repo.fetch(x, o), d)),
      });
      const { blobs } = await assertGraphIn(resilient, root);
      expect(blobs).toBe(image.blobs.length);
    }
    expect(proxy.stats.faults.cut).toBeGreaterThan(1);

    const repo = reader.repository('faults/big');
    // Without resuming, the cut is fatal: proof the fault is real.
    const plain = await repo.fetch(big);
    await expect((async () => {
      for await (const _ of plain) {
        // read until the cut
      }
    })()).rejects.toBeInstanceOf(NetworkError);

    const servedBefore = proxy.stats.bodyBytes.get(bigPath) ?? 0;
    const resumes: number[] = [];
    const hash = createHash('sha256');
    for await (const chunk of verified(fetchResumable((d, o) => repo.fetch(d, o), big, { onResume: (offset) => resumes.push(offset) }), big)) {
      hash.update(chunk as Buffer);
    }
    expect(`sha256:${hash.digest('hex')}`).toBe(big.digest);
    const served = (proxy.stats.bodyBytes.get(bigPath) ?? 0) - servedBefore;
    const reread = served - big.size;
    expect(resumes.length).toBe(1);
    expect(resumes[0]).toBeGreaterThan(0);
    expect(reread).toBeGreaterThanOrEqual(0);
    expect(reread).toBeLessThan(big.size);
    expect(proxy.stats.ranges.get(bigPath)?.at(-1)).toBe(`bytes=${resumes[0]}-`);
  });
});
