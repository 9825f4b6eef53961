import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MediaType, NetworkError, type Descriptor } from '../../src/core/index.js';
import { ANNOTATION_REFERRER_TAG, createMemoryTraceSink, createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { registryBaseUrl } from '../../src/registry/client/options.js';
import { nextLocation } from '../../src/registry/client/transport/location.js';
import { parseRetryAfter } from '../../src/registry/client/retry/index.js';
import { sendJson, startFixture, type FixtureServer } from './fixture-server.js';

// Protocol corners distribution 2.8 does not exercise, against small fixtures:
// a server that ignores Range, a HEAD without digest headers, the OCI 1.1
// referrers API with pagination, and the pure rules (Location, Retry-After, hosts).

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Descriptor['digest'];

describe('pure rules', () => {
  test('Location: relative resolves; public → private is refused; private → private is fine', () => {
    expect(nextLocation(new URL('https://reg.example/v2/a/blobs/uploads/'), '/v2/a/blobs/uploads/1?_state=x').href).toBe('https://reg.example/v2/a/blobs/uploads/1?_state=x');
    expect(() => nextLocation(new URL('https://reg.example/v2/'), 'http://169.254.169.254/latest/meta-data')).toThrow(NetworkError);
    expect(() => nextLocation(new URL('https://reg.example/v2/'), 'http://10.0.0.5/upload')).toThrow(/private address/);
    expect(() => nextLocation(new URL('https://reg.example/v2/'), 'http://[::1]:5000/upload')).toThrow(/private address/);
    expect(nextLocation(new URL('https://reg.example/v2/'), 'https://storage.example/blob').host).toBe('storage.example');
    expect(nextLocation(new URL('http://127.0.0.1:5000/v2/'), 'http://192.168.1.9/upload').host).toBe('192.168.1.9');
    expect(() => nextLocation(new URL('https://reg.example/v2/'), 'file:///etc/passwd')).toThrow(/scheme/);
  });

  test('Retry-After: seconds or an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  test('docker.io talks to registry-1.docker.io; hosts are lowercased', () => {
    expect(registryBaseUrl({ registry: 'docker.io' }).href).toBe('https://registry-1.docker.io/');
    expect(registryBaseUrl({ registry: 'MyReg.AzSacr.Local.AzureStack.External' }).href).toBe('https://myreg.azsacr.local.azurestack.external/');
    expect(registryBaseUrl({ registry: 'localhost:5000', plainHttp: true }).href).toBe('http://localhost:5000/');
  });
});

describe('against fixtures', () => {
  const blob = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
  const blobDesc: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: sha(blob), size: blob.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociEmpty, digest: sha('{}'), size: 2 }, layers: [] }));
  const subject: Descriptor = { mediaType: MediaType.ociManifest, digest: sha(manifest), size: manifest.length };
  const referrer = (n: number, artifactType: string): Descriptor => ({ mediaType: MediaType.ociManifest, digest: sha(`referrer-${n}`), size: 100 + n, artifactType });
  let server: FixtureServer;
  let client: RegistryClient;
  const trace = createMemoryTraceSink();

  beforeAll(async () => {
    server = await startFixture((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v2/') return sendJson(res, 200, {});
      if (url.pathname === `/v2/norange/blobs/${blobDesc.digest}`) {
        res.writeHead(200, { 'content-length': String(blob.length) }); // Range ignored
        return void res.end(blob);
      }
      if (url.pathname === '/v2/bare/manifests/1') {
        // No Docker-Content-Digest, a generic content type: the client must GET and compute.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(manifest.length) });
        return void res.end(req.method === 'HEAD' ? undefined : manifest);
      }
      if (url.pathname === `/v2/api/referrers/${subject.digest}`) {
        const page = url.searchParams.get('page') ?? '1';
        const manifests = page === '1' ? [referrer(1, 'application/spdx+json')] : [referrer(2, 'application/vnd.dev.sigstore.bundle+json')];
        const headers: Record<string, string> = { 'content-type': MediaType.ociIndex };
        if (page === '1') headers.link = `</v2/api/referrers/${subject.digest}?page=2>; rel="next"`;
        return sendJson(res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, headers);
      }
      if (url.pathname === `/v2/api/manifests/sha256-${subject.digest.slice(7)}.sig`) {
        res.writeHead(200, { 'content-type': MediaType.ociManifest, 'docker-content-digest': sha('sig'), 'content-length': '321' });
        return void res.end();
      }
      return sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    });
    client = createRegistryClient({ registry: server.host, plainHttp: true, trace });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  test('a server that ignores Range: the first N bytes are skipped, the rest match', async () => {
    const chunks: Buffer[] = [];
    for await (const c of await client.repository('norange').fetch(blobDesc, { offset: 1000 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(blob.subarray(1000))).toBe(true);
    expect(server.seen.find((r) => r.url.startsWith('/v2/norange/'))?.headers.range).toBe('bytes=1000-');
  });

  test('a HEAD without digest and type is completed by a GET; the digest is computed', async () => {
    const d = await client.repository('bare').resolve('1');
    expect(d).toEqual({ mediaType: MediaType.ociManifest, digest: subject.digest, size: manifest.length });
    expect(server.seen.filter((r) => r.url === '/v2/bare/manifests/1').map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  test('OCI 1.1 referrers API, two pages, then cosign tags; artifactType filters', async () => {
    const all: Descriptor[] = [];
    for await (const d of client.repository('api').referrers(subject)) all.push(d);
    expect(all.map((d) => d.digest)).toEqual([referrer(1, '').digest, referrer(2, '').digest, sha('sig')]);
    expect(all[2]?.annotations?.[ANNOTATION_REFERRER_TAG]).toBe(`sha256-${subject.digest.slice(7)}.sig`);
    // The API answered, so the tag schema was not consulted.
    expect(server.seen.some((r) => r.url === `/v2/api/manifests/sha256-${subject.digest.slice(7)}`)).toBe(false);
    const sboms: Descriptor[] = [];
    for await (const d of client.repository('api').referrers(subject, { artifactType: 'application/spdx+json' })) sboms.push(d);
    expect(sboms.map((d) => d.artifactType)).toEqual(['application/spdx+json']);
  });
});
