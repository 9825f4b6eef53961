import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ExitCode, NetworkError } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { createCa, type TestCa } from '../rig/ca.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { startTls11Server, type Tls11Server } from '../rig/tls11-server.js';
import { assertGraphIn, copyImage } from './copy-image.js';

// TLS against a real docker-registry with a throwaway CA: trusted with --ca-cert,
// refused without it, refused when the server offers only TLS 1.1.

describe.skipIf(!rigContext().available)('TLS', () => {
  let registry: Registry;
  let ca: TestCa;
  let tls11: Tls11Server;
  const clients: RegistryClient[] = [];
  const client = (opts: Omit<Parameters<typeof createRegistryClient>[0], 'registry'> & { registry?: string }) => {
    const c = createRegistryClient({ registry: registry.host, retries: 0, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    ca = await createCa();
    registry = await startRegistry({ tls: ca });
    tls11 = await startTls11Server(ca);
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await registry?.stop();
    await tls11?.stop();
    await ca?.remove();
  });

  test('with --ca-cert: push and pull an image over TLS', async () => {
    const rig = seededRig();
    const image = rig.images.images.appB;
    const source = client({ registry: rig.source.host, plainHttp: true });
    const src = source.repository(image.repository);
    const root = await src.resolve('1.0');
    const tlsClient = client({ caCert: ca.caCertPath });
    await copyImage(src, tlsClient.repository(image.repository), root, { tags: ['1.0'] });
    const back = await client({ caCert: ca.caCertPath }).repository(image.repository).resolve('1.0');
    expect(back.digest).toBe(image.digest);
    expect((await assertGraphIn(tlsClient.repository(image.repository), back)).blobs).toBe(image.blobs.length);
  });

  test('without the CA: ERR_TLS naming --ca-cert; --tls-verify=false gets through', async () => {
    const err = await client({}).ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    const e = err as NetworkError;
    expect(e.code).toBe('ERR_TLS');
    expect(e.exitCode).toBe(ExitCode.network);
    expect(e.message).toMatch(/^GET https:\/\/127\.0\.0\.1:\d+\/v2\/: TLS handshake failed/);
    expect(e.message).not.toContain('\n');
    expect(e.hint).toContain('--ca-cert');
    expect(await client({ tlsVerify: false }).ping()).toBe('none');
  });

  test('a server offering only TLS 1.1 is refused before any request', async () => {
    const err = await client({ registry: tls11.host, caCert: ca.caCertPath }).ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ERR_TLS');
    expect((err as NetworkError).hint).toMatch(/TLS 1\.2 or newer/);
    expect(tls11.requests()).toBe(0);
  });

  test('https to a plain-HTTP registry says so', async () => {
    const rig = seededRig();
    const err = await client({ registry: rig.source.host }).ping().catch((e: unknown) => e);
    expect((err as NetworkError).code).toBe('ERR_TLS');
    expect((err as NetworkError).hint).toMatch(/--plain-http/);
  });
});
