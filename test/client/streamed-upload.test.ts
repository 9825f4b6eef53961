import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorCode, IntegrityError, MediaType, type Descriptor } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { rigContext } from '../rig/context.js';
import { startRegistry } from '../rig/registry.js';
import { serve } from '../server/harness.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

// A large blob whose source can be re-read from any byte goes up in one
// streamed PATCH; when the connection drops mid-body, the client asks the
// registry how much it kept and streams only the rest (re-reading the start
// locally to keep the sha256 whole). Against the real docker-registry.

const MiB = 1024 * 1024;
const bytes = Buffer.alloc(8 * MiB);
for (let i = 0; i < bytes.length; i += 32) createHash('sha256').update(`streamed-${i}`).digest().copy(bytes, i);
const desc: Descriptor = {
  mediaType: MediaType.ociLayerGzip,
  digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'],
  size: bytes.length,
};

interface Target {
  url: string;
  stop(): Promise<void>;
}

const targets: Array<[string, () => Promise<Target>]> = [
  ['docker-registry', async () => startRegistry({})],
  ['ferry serve', async () => {
    const s = await serve();
    return { url: s.server.url, stop: () => s.stop() };
  }],
];

describe.skipIf(!rigContext().available).each(targets)('streamed, resumable upload of a large blob to %s', (name, start) => {
  let target: Target;
  let proxy: FaultProxy;
  let cut = true;
  const clients: RegistryClient[] = [];
  const client = (): RegistryClient => {
    // 1 MiB threshold: the 8 MiB blob is "large".
    const c = createRegistryClient({ registry: proxy.host, plainHttp: true, retries: 3, retryBaseDelayMs: 10, monolithicThreshold: MiB, chunkSize: MiB });
    clients.push(c);
    return c;
  };
  const reopened: number[] = [];
  const reopen = (source: Buffer) => (offset: number) => {
    reopened.push(offset);
    return Readable.from([source.subarray(offset)]);
  };

  beforeAll(async () => {
    target = await start();
    proxy = await startFaultProxy(new URL(target.url), {
      // The first PATCH of each test loses its connection after 3 MiB.
      pick: (_n, req) => (req.method === 'PATCH' && cut ? ((cut = false), 'cut-upload') : 'forward'),
      cutUploadAfter: () => 3 * MiB,
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await proxy?.stop();
    await target?.stop();
  });

  test('one PATCH for the whole blob; after a cut, the rest from the registry\'s offset, and the blob lands whole', async () => {
    const repo = client().repository('streamed/ok');
    await repo.push(desc, Readable.from([bytes]), { reopen: reopen(bytes) });
    expect(proxy.stats.faults['cut-upload']).toBe(1);
    // Two PATCHes, not eight chunks: the first from 0 for every byte, the second from where the registry stopped.
    expect(proxy.stats.patches).toHaveLength(2);
    expect(proxy.stats.patches[0]).toBe(`0-${bytes.length - 1}`);
    const resumedAt = Number(proxy.stats.patches[1]?.split('-')[0]);
    if (name === 'docker-registry') {
      // distribution 2.8 drops a session whose PATCH broke: a new session, streamed from byte 0.
      expect(resumedAt).toBe(0);
    } else {
      expect(resumedAt, 'resumed inside the blob, not from 0').toBeGreaterThan(0);
      expect(resumedAt).toBeLessThanOrEqual(3 * MiB);
    }
    // Re-read: from 0 to rebuild the sha256 of what the registry kept, then the rest.
    expect(reopened).toEqual(resumedAt > 0 ? [0, resumedAt] : [0]);
    const direct = createRegistryClient({ registry: new URL(target.url).host, plainHttp: true });
    clients.push(direct);
    const landed = await direct.repository('streamed/ok').fetch(desc);
    const hash = createHash('sha256');
    for await (const chunk of landed) hash.update(chunk as Buffer);
    expect(`sha256:${hash.digest('hex')}`).toBe(desc.digest);
  });

  test('a source whose re-read start differs is refused before the commit (the sha256 covers the resumed bytes too)', async () => {
    cut = true;
    reopened.length = 0;
    const tampered = Buffer.from(bytes);
    tampered[100] ^= 0xff;
    const repo = client().repository('streamed/tampered');
    const err = await repo.push(desc, Readable.from([bytes]), { reopen: reopen(tampered) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).code).toBe(ErrorCode.digestMismatch);
    const direct = createRegistryClient({ registry: new URL(target.url).host, plainHttp: true });
    clients.push(direct);
    expect(await direct.repository('streamed/tampered').exists(desc)).toBe(false);
  });
});
