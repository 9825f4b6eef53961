import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/digest.js';
import { rigContext, seededRig } from '../rig/context.js';
import { ARTIFACT_KEYS, IMAGE_KEYS, registryBlobs, type RigImageKey } from '../rig/image-set.js';
import { run, runOk } from '../rig/peers.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { serve, type Served } from './harness.js';

// Real skopeo against ferry serve: every rig image copied from the seeded source
// registry into the embedded registry and back out, byte-identical manifests,
// every blob served with its digest; inspect and list-tags work.

const ORDER: readonly RigImageKey[] = [...IMAGE_KEYS, ...ARTIFACT_KEYS];
const PLAIN = ['--src-tls-verify=false', '--dest-tls-verify=false'];

describe.skipIf(!rigContext().available)('skopeo against ferry serve', () => {
  let s: Served;
  let work: string;
  beforeAll(async () => {
    s = await serve();
    work = await mkdtemp(join(tmpdir(), 'ferry-serve-skopeo-'));
  });
  afterAll(async () => {
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('copies every rig image in with the same digests', async () => {
    const rig = seededRig();
    for (const key of ORDER) {
      const image = rig.images.images[key];
      const result = await run('skopeo', [
        '--insecure-policy', 'copy', '--all', '--preserve-digests', ...PLAIN,
        `docker://${rig.source.host}/${image.reference}`, `docker://${s.server.address}/${image.reference}`,
      ]);
      if (key === 'referrersIndex') {
        // skopeo 1.9 cannot write an index whose entries carry artifactType (peers.md): carry it by raw HTTP.
        expect(result.stderr).toMatch(/must be converted/);
        const src = new RegistryHttp(rig.source);
        try {
          const bytes = (await src.send('GET', `/v2/${image.repository}/manifests/${image.tag ?? ''}`, { accept: image.mediaType })).body;
          const put = await s.send('PUT', `/v2/${image.repository}/manifests/${image.tag ?? ''}`, { headers: { 'content-type': image.mediaType }, body: bytes });
          expect(put.status).toBe(201);
        } finally {
          await src.close();
        }
      } else {
        expect(result.code, `${key}: ${result.stderr}`).toBe(0);
      }
      const raw = await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${s.server.address}/${image.reference}`]);
      expect(digestOf(raw.stdout), key).toBe(image.digest);
      for (const blob of registryBlobs(image)) {
        const got = await s.send('GET', `/v2/${image.repository}/blobs/${blob.digest}`);
        expect(got.status, `${key} ${blob.digest}`).toBe(200);
        expect(digestOf(got.body)).toBe(blob.digest);
      }
    }
  });

  it('copies every image back out to dir: byte for byte', async () => {
    const rig = seededRig();
    for (const key of IMAGE_KEYS) {
      const image = rig.images.images[key];
      const dir = join(work, `out-${key}`);
      await runOk('skopeo', ['--insecure-policy', 'copy', '--all', '--preserve-digests', ...PLAIN, `docker://${s.server.address}/${image.reference}`, `dir:${dir}`]);
      expect(digestOf(await readFile(join(dir, 'manifest.json'))), key).toBe(image.digest);
      const files = new Set(await readdir(dir));
      for (const blob of image.blobs) {
        const hex = blob.digest.slice('sha256:'.length);
        expect(files.has(hex), `${key} ${blob.digest}`).toBe(true);
        const hash = createHash('sha256').update(await readFile(join(dir, hex))).digest('hex');
        expect(hash).toBe(hex);
      }
    }
  });

  it('skopeo inspect reads config and platform; list-tags lists the tags', async () => {
    const rig = seededRig();
    const { appA, windows, multi } = rig.images.images;
    const inspected = JSON.parse((await runOk('skopeo', ['inspect', '--tls-verify=false', `docker://${s.server.address}/${appA.reference}`])).stdout) as {
      Digest: string;
      Architecture: string;
      Os: string;
    };
    expect(inspected.Digest).toBe(appA.digest);
    expect([inspected.Os, inspected.Architecture]).toEqual(['linux', 'amd64']);
    const win = JSON.parse((await runOk('skopeo', ['inspect', '--tls-verify=false', `docker://${s.server.address}/${windows.reference}`])).stdout) as { Os: string };
    expect(win.Os).toBe('windows');
    const arm = JSON.parse(
      (await runOk('skopeo', ['inspect', '--tls-verify=false', '--override-arch', 'arm64', '--override-variant', 'v8', `docker://${s.server.address}/${multi.reference}`])).stdout,
    ) as { Architecture: string; Digest: string };
    expect(arm.Architecture).toBe('arm64');
    expect(multi.manifests.map((m) => m.digest)).toContain(arm.Digest);
    const tags = JSON.parse((await runOk('skopeo', ['list-tags', '--tls-verify=false', `docker://${s.server.address}/${appA.repository}`])).stdout) as {
      Tags: string[];
    };
    const expected = [appA, rig.images.images.referrersIndex, rig.images.images.signature].map((i) => i.tag ?? '').sort();
    expect([...tags.Tags].sort()).toEqual(expected);
  });
});
