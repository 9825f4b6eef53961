import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { digestHex, digestOf } from '../src/core/digest.js';
import { MediaType } from '../src/core/media-types.js';
import { createCa, type TestCa } from './rig/ca.js';
import { rigContext, seededRig } from './rig/context.js';
import { fetchForeignStats, foreignUrlPattern } from './rig/foreign-server.js';
import { COSIGN_SIGNATURE_ANNOTATION, SBOM_ARTIFACT_TYPE } from './rig/image-artifacts.js';
import { ARTIFACT_KEYS, IMAGE_KEYS, registryBlobs, type RigImageKey } from './rig/image-set.js';
import { buildTestImages, type BuiltTestImages } from './rig/images.js';
import { buildLayer } from './rig/layer-tar.js';
import { requireCapability, requirePeer, run } from './rig/peers.js';
import { startRegistry, type Registry } from './rig/registry.js';
import { RegistryHttp } from './rig/registry-http.js';
import { seedRegistry } from './rig/seed.js';
import { skopeoInspectRaw } from './rig/skopeo.js';
import { startTls11Server } from './rig/tls11-server.js';
import { decodeTokenClaims } from './rig/token-jwt.js';

// The rig's own tests: every server really starts, every seeded image is really
// there with the builder's digests, and auth/TLS/token modes really gate access.

const ALL_KEYS: readonly RigImageKey[] = [...IMAGE_KEYS, ...ARTIFACT_KEYS];

async function status(url: string, opts: { auth?: string | undefined; ca?: string | undefined } = {}): Promise<{ status: number; challenge: string }> {
  const dispatcher = new Agent({ connect: opts.ca ? { ca: opts.ca } : {} });
  try {
    const res = await request(url, { headers: opts.auth ? { authorization: opts.auth } : {}, dispatcher });
    await res.body.dump();
    return { status: res.statusCode, challenge: String(res.headers['www-authenticate'] ?? '') };
  } finally {
    await dispatcher.close();
  }
}
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('peers helpers', () => {
  test('requirePeer: false and a hint locally, throws under CI', () => {
    const ci = process.env.CI;
    try {
      delete process.env.CI;
      expect(requirePeer('ferry-no-such-binary', 'ferry-pkg')).toBe(false);
      expect(requirePeer('sh', 'dash')).toBe(true);
      process.env.CI = 'true';
      expect(() => requirePeer('ferry-no-such-binary', 'ferry-pkg')).toThrow(/apt-get install -y ferry-pkg/);
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
  });

  test('requireCapability: false and a hint locally, under CI an error naming what is missing', () => {
    const ci = process.env.CI;
    try {
      delete process.env.CI;
      expect(requireCapability('a FAT driver', false, 'apt-get install -y fusefat')).toBe(false);
      expect(requireCapability('root', true, 'run as root')).toBe(true);
      process.env.CI = 'true';
      expect(() => requireCapability('a FAT driver', false, 'apt-get install -y fusefat')).toThrow('a FAT driver is not available and CI=true: suites must not skip — apt-get install -y fusefat');
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
  });

  test('run captures stdout, stderr and the exit code', async () => {
    const result = await run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });
});

describe.skipIf(!rigContext().available)('test rig', () => {
  let built: BuiltTestImages;
  let ca: TestCa;
  const started: Registry[] = [];
  const start = async (...args: Parameters<typeof startRegistry>): Promise<Registry> => {
    const registry = await startRegistry(...args);
    started.push(registry);
    return registry;
  };

  beforeAll(async () => {
    built = await buildTestImages({ foreignBaseUrl: seededRig().foreign.url });
    ca = await createCa();
  });
  afterAll(async () => {
    for (const r of started) await r.stop();
    await ca?.remove();
  });

  test('image builder is deterministic and its descriptions match global setup', async () => {
    expect(built.set).toEqual(seededRig().images);
    const again = await buildLayer([{ path: 'a/b.txt', content: 'x' }]);
    expect((await buildLayer([{ path: 'a/b.txt', content: 'x' }])).digest).toBe(again.digest);
    // tar-stream + fixed mtimes: the uncompressed tar (the diff_id) is pinned, whatever zlib does.
    expect(again.diffId).toBe('sha256:a58296c36b66344b0aa0d340374982ca42ab9a0586162682f2fcb36ad01815a7');
    const appA = seededRig().images.images.appA;
    const appB = seededRig().images.images.appB;
    expect(appA.blobs[1]?.digest).toBe(appB.blobs[1]?.digest); // the shared base layer
    expect(appA.blobs[2]?.digest).not.toBe(appB.blobs[2]?.digest);
    const [configDesc] = appA.blobs;
    expect(configDesc?.mediaType).toBe(MediaType.ociConfig);
    const config = built.blobs.json(appA.blobs[0]?.digest ?? digestOf('')) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toHaveLength(2);
  });

  test('plain registry: /v2/ answers 200; stop() ends the process and removes its dir', async () => {
    const registry = await startRegistry();
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await status(`${registry.url}/v2/`)).status).toBe(200);
    await registry.stop();
    expect(() => process.kill(registry.pid, 0)).toThrow();
    expect(existsSync(registry.storageDir)).toBe(false);
  });

  test('basic-auth registry: no or wrong credentials → 401, right ones → 200', async () => {
    const registry = await start({ auth: 'basic' });
    const v2 = `${registry.url}/v2/`;
    const { status: anonymous, challenge } = await status(v2);
    expect(anonymous).toBe(401);
    expect(challenge).toMatch(/^Basic realm=/);
    expect((await status(v2, { auth: basic(registry.username ?? '', 'wrong') })).status).toBe(401);
    expect((await status(v2, { auth: basic(registry.username ?? '', registry.password ?? '') })).status).toBe(200);
  });

  test('TLS registry: trusted with the rig CA, refused without it; combines with basic auth', async () => {
    const registry = await start({ tls: ca, auth: 'basic' });
    expect(registry.scheme).toBe('https');
    const v2 = `${registry.url}/v2/`;
    const auth = basic(registry.username ?? '', registry.password ?? '');
    expect((await status(v2, { ca: registry.caCert, auth })).status).toBe(200);
    expect((await status(v2, { ca: registry.caCert })).status).toBe(401);
    await expect(status(v2, { auth })).rejects.toThrow();
    // The certificate names DNS:localhost too (SNI/hostname check against the SAN).
    const byName = new Agent({ connect: { ca: registry.caCert, servername: 'localhost' } });
    const named = await request(v2, { headers: { authorization: auth }, dispatcher: byName });
    await named.body.dump();
    await byName.close();
    expect(named.statusCode).toBe(200);
  });

  test('TLS 1.1-only server: a TLS 1.1 client gets /v2/, a default Node client is refused', async () => {
    const server = await startTls11Server(ca);
    try {
      const old = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${server.url}/v2/`, {
          ca: ca.caCertPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0',
        }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        req.on('error', reject);
        req.end();
      });
      expect(old).toBe(200);
      await expect(status(`${server.url}/v2/`, { ca: ca.caCertPem })).rejects.toThrow();
      expect(server.requests()).toBe(1);
    } finally {
      await server.stop();
    }
  });

  test('every seeded image is served with the builder digests (skopeo inspect --raw)', async () => {
    const { source, images } = seededRig();
    for (const key of ALL_KEYS) {
      const image = images.images[key];
      const raw = await skopeoInspectRaw(source, image.reference);
      expect(digestOf(raw), key).toBe(image.digest);
      for (const child of image.manifests.slice(1)) {
        expect(digestOf(await skopeoInspectRaw(source, `${image.repository}@${child.digest}`))).toBe(child.digest);
      }
    }
    const multi = JSON.parse(await skopeoInspectRaw(source, images.images.multi.reference)) as {
      mediaType: string; manifests: { platform: { architecture: string; variant?: string } }[];
    };
    expect(multi.mediaType).toBe(MediaType.ociIndex);
    expect(multi.manifests.map((m) => m.platform.architecture + (m.platform.variant ?? ''))).toEqual(['amd64', 'arm64v8']);
    expect(images.images.docker.mediaType).toBe(MediaType.dockerManifest);
  });

  test('every registry blob is there with its size; the foreign blob only on the foreign server', async () => {
    const { source, images, foreign } = seededRig();
    const http = new RegistryHttp(source);
    try {
      for (const key of ALL_KEYS) {
        const image = images.images[key];
        for (const blob of registryBlobs(image)) {
          const head = await http.send('HEAD', `/v2/${image.repository}/blobs/${blob.digest}`);
          expect(head.status, `${key} ${blob.digest}`).toBe(200);
          expect(Number(head.headers['content-length'])).toBe(blob.size);
        }
      }
      const { foreignLayer } = images;
      const windows = JSON.parse(await skopeoInspectRaw(source, images.images.windows.reference)) as {
        layers: { mediaType: string; urls?: string[] }[];
      };
      expect(windows.layers[0]?.mediaType).toBe(MediaType.dockerForeignLayer);
      expect(windows.layers[0]?.urls).toEqual([foreignLayer.url]);
      expect(windows.layers[1]?.urls).toBeUndefined();
      const missing = await http.send('HEAD', `/v2/${images.images.windows.repository}/blobs/${foreignLayer.digest}`);
      expect(missing.status).toBe(404);
      const before = await fetchForeignStats(foreign.url);
      const res = await request(foreignLayer.url);
      const bytes = Buffer.from(await res.body.arrayBuffer());
      expect(res.statusCode).toBe(200);
      expect(sha256(bytes)).toBe(digestHex(foreignLayer.digest));
      const after = await fetchForeignStats(foreign.url);
      expect(after.total - before.total).toBe(1);
    } finally {
      await http.close();
    }
  });

  test('referrers: tag-schema index lists the SBOM (subject app-a), and the .sig tag exists', async () => {
    const { source, images } = seededRig();
    const { appA, sbom, referrersIndex, signature } = images.images;
    expect(referrersIndex.tag).toBe(`sha256-${digestHex(appA.digest)}`);
    const index = JSON.parse(await skopeoInspectRaw(source, referrersIndex.reference)) as {
      manifests: { digest: string; artifactType?: string }[];
    };
    expect(index.manifests).toEqual([expect.objectContaining({ digest: sbom.digest, artifactType: SBOM_ARTIFACT_TYPE })]);
    const referrer = JSON.parse(await skopeoInspectRaw(source, sbom.reference)) as {
      artifactType: string; subject: { digest: string }; config: { mediaType: string };
    };
    expect(referrer.subject.digest).toBe(appA.digest);
    expect(referrer.config.mediaType).toBe(MediaType.ociEmpty);
    expect(signature.tag).toBe(`sha256-${digestHex(appA.digest)}.sig`);
    const sig = JSON.parse(await skopeoInspectRaw(source, signature.reference)) as {
      layers: { mediaType: string; annotations: Record<string, string> }[];
    };
    expect(sig.layers[0]?.mediaType).toBe(MediaType.cosignSimpleSigning);
    expect(sig.layers[0]?.annotations[COSIGN_SIGNATURE_ANNOTATION]).toMatch(/^[A-Za-z0-9+/=]+$/);
  });

  test('layout dir: every blob hashes to its name; skopeo reads OCI images from it', async () => {
    const { layoutDir, images } = seededRig();
    const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest).sort()).toEqual(ALL_KEYS.map((k) => images.images[k].digest).sort());
    for (const digest of built.blobs.bytes.keys()) {
      expect(sha256(await readFile(join(layoutDir, 'blobs', 'sha256', digestHex(digest))))).toBe(digestHex(digest));
    }
    const inspected = await run('skopeo', ['inspect', '--raw', `oci:${layoutDir}:${images.images.appA.reference}`]);
    expect(digestOf(inspected.stdout)).toBe(images.images.appA.digest);
  });

  test('seeding works through TLS + basic auth (skopeo and the http pusher)', async () => {
    const { foreign } = seededRig();
    const registry = await start({ tls: ca, auth: 'basic', allowForeignUrls: [foreignUrlPattern(foreign.url)] });
    await seedRegistry(registry, built);
    for (const key of ALL_KEYS) {
      const image = built.set.images[key];
      expect(digestOf(await skopeoInspectRaw(registry, image.reference)), key).toBe(image.digest);
    }
  });

  test('token registry: skopeo push and pull through the issuer; wrong password refused', async () => {
    const registry = await start({ auth: 'token' });
    const issuer = registry.tokenServer;
    if (!issuer) throw new Error('token registry without its issuer');
    const { status: code, challenge } = await status(`${registry.url}/v2/`);
    expect(code).toBe(401);
    expect(challenge).toContain(`realm="${issuer.realm}"`);
    expect((await status(`${issuer.realm}?service=${issuer.service}`, { auth: basic(issuer.username, 'wrong') })).status).toBe(401);
    await seedRegistry(registry, built, { only: ['appA', 'docker', 'sbom', 'referrersIndex'] });
    expect(digestOf(await skopeoInspectRaw(registry, built.set.images.appA.reference))).toBe(built.set.images.appA.digest);
    expect(digestOf(await skopeoInspectRaw(registry, built.set.images.referrersIndex.reference))).toBe(
      built.set.images.referrersIndex.digest,
    );
    const stats = issuer.stats();
    expect(stats.issued).toBeGreaterThanOrEqual(4);
    expect(stats.refused).toBeGreaterThanOrEqual(1);
    expect(stats.scopes).toContain('repository:ferry-test/app-a:pull,push');
  });

  test('token issuer: anonymous pull-only tokens; registry enforces the short lifetime', async () => {
    // The issuer's clock, set back below to issue a token that is already past its lifetime.
    let setBack = 0;
    const clock = (): number => Date.now() - setBack;
    const registry = await start({ auth: 'token', tokenOptions: { anonymousPull: true, lifetimeSeconds: 2, registryEnforcesLifetime: true, clock } });
    const issuer = registry.tokenServer;
    if (!issuer) throw new Error('token registry without its issuer');
    const scope = 'repository:ferry-test/app-a:pull,push';
    const anon = await request(`${issuer.realm}?service=${issuer.service}&scope=${scope}`);
    const anonToken = ((await anon.body.json()) as { token: string }).token;
    expect(decodeTokenClaims(anonToken).access).toEqual([{ type: 'repository', name: 'ferry-test/app-a', actions: ['pull'] }]);
    const issue = async () => {
      const res = await request(`${issuer.realm}?service=${issuer.service}&scope=${scope}`, {
        headers: { authorization: basic(issuer.username, issuer.password) },
      });
      return (await res.body.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    };
    const body = await issue();
    expect(body.expires_in).toBe(2);
    expect(body.access_token).toBe(body.token);
    expect((await status(`${registry.url}/v2/`, { auth: `Bearer ${body.token}` })).status).toBe(200);
    // Issued 3 s ago for 2 s: past its lifetime by the registry's clock (not within distribution's 60 s leeway).
    setBack = 3000;
    const old = await issue();
    expect(Date.now() - Date.parse(old.issued_at)).toBeGreaterThanOrEqual(3000);
    expect((await status(`${registry.url}/v2/`, { auth: `Bearer ${old.token}` })).status).toBe(401);
    setBack = 0;
    // containerd's OAuth2 POST: a password grant works; any other grant → 400 (containerd then GETs).
    const form = (fields: Record<string, string>) =>
      request(issuer.realm, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ service: issuer.service, scope, ...fields }).toString(),
      });
    const posted = await form({ grant_type: 'password', username: issuer.username, password: issuer.password });
    const postedToken = ((await posted.body.json()) as { access_token: string }).access_token;
    expect(decodeTokenClaims(postedToken).access).toEqual([
      { type: 'repository', name: 'ferry-test/app-a', actions: ['pull', 'push'] },
    ]);
    const refresh = await form({ grant_type: 'refresh_token', refresh_token: 'x' });
    await refresh.body.dump();
    expect(refresh.statusCode).toBe(400);
    expect(issuer.stats()).toMatchObject({ issued: 4, anonymous: 1 });
  });
});
