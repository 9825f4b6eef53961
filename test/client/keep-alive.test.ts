import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Descriptor } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { rigContext, seededRig } from '../rig/context.js';
import { IMAGE_KEYS, registryBlobs } from '../rig/image-set.js';

// HEADs (does the target hold this blob, this manifest?) are most of a re-import's
// requests: each must reuse the pooled connection, not open a new one. undici closes
// the socket after a HEAD unless told not to; a TCP proxy in front of the real
// docker-registry counts the connections the client opens.

describe.skipIf(!rigContext().available)('keep-alive', () => {
  const rig = rigContext().available ? seededRig() : undefined;
  let proxy: Server;
  let port = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  let client: RegistryClient;

  beforeAll(async () => {
    if (!rig) return;
    const upstream = new URL(rig.source.url);
    proxy = createServer((down) => {
      connections += 1;
      const up = connect(Number(upstream.port), upstream.hostname);
      for (const s of [down, up]) {
        sockets.add(s);
        s.on('error', () => undefined).on('close', () => sockets.delete(s));
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    port = (proxy.address() as { port: number }).port;
    client = createRegistryClient({ registry: `127.0.0.1:${port}`, plainHttp: true });
  });
  afterAll(async () => {
    await client?.close();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  test('one after another, blob and manifest HEADs share one connection', async () => {
    if (!rig) return;
    const image = rig.images.images[IMAGE_KEYS[1]];
    const repo = client.repository(image.repository);
    const blobs = registryBlobs(image) as readonly Descriptor[];
    const manifest = { mediaType: image.mediaType, digest: image.digest, size: image.size } as Descriptor;
    await repo.exists(manifest); // the /v2/ ping and the first HEAD open the connection
    const before = connections;
    let heads = 0;
    for (let round = 0; round < 5; round++) {
      for (const blob of blobs) {
        expect(await repo.exists(blob)).toBe(true);
        heads += 1;
      }
      expect(await repo.exists(manifest)).toBe(true);
      heads += 1;
    }
    expect(heads).toBeGreaterThan(10);
    expect(connections - before).toBe(0);
  });
});
