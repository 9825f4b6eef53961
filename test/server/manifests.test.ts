import { rm, truncate } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDigest } from '../../src/core/index.js';
import { imageManifest, pushBlob, pushImage, serve, sha256, type Served } from './harness.js';

// Manifests over raw HTTP: content types as pushed, tags, children checks (with
// the foreign-layer exception), OCI-Subject and the referrers API, deletes.

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const SBOM_TYPE = 'application/spdx+json';

describe('manifests', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('PUT by tag answers 201 with Location and digest; GET by tag and by digest return the same bytes and type', async () => {
    const { digest, manifest } = await pushImage(s, 'm/app', 'v1', 'app-v1');
    for (const ref of ['v1', digest]) {
      const get = await s.send('GET', `/v2/m/app/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } });
      expect(get.status).toBe(200);
      expect(get.headers['content-type']).toBe(OCI_MANIFEST);
      expect(get.headers['docker-content-digest']).toBe(digest);
      expect(get.body.equals(manifest)).toBe(true);
    }
    const head = await s.send('HEAD', '/v2/m/app/manifests/v1');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(manifest.length));
    expect(head.body.length).toBe(0);
  });

  it('serves a Docker schema2 manifest with its Docker content type', async () => {
    const config = Buffer.from('{"os":"linux","architecture":"amd64"}');
    const layer = Buffer.from('docker layer');
    await pushBlob(s, 'm/docker', config);
    await pushBlob(s, 'm/docker', layer);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha256(layer), size: layer.length }],
      }),
    );
    const put = await s.send('PUT', '/v2/m/docker/manifests/1.0', { headers: { 'content-type': DOCKER_MANIFEST }, body: manifest });
    expect(put.status).toBe(201);
    const get = await s.send('GET', '/v2/m/docker/manifests/1.0');
    expect(get.headers['content-type']).toBe(DOCKER_MANIFEST);
  });

  it('a manifest is not served from a repository it is not linked in', async () => {
    const { digest } = await pushImage(s, 'm/one', 'v1', 'only-in-one');
    const get = await s.send('GET', `/v2/m/two/manifests/${digest}`);
    expect(get.status).toBe(404);
    expect(get.code).toBe('MANIFEST_UNKNOWN');
  });

  it('an index whose child manifest is missing is MANIFEST_BLOB_UNKNOWN; with the child it is accepted', async () => {
    const child = await pushImage(s, 'm/index', 'child', 'index-child');
    const other = imageManifest(Buffer.from('{"x":1}'), []);
    const index = (children: Array<{ digest: string; size: number }>) =>
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => ({ mediaType: OCI_MANIFEST, ...c, platform: { os: 'linux', architecture: 'amd64' } })) }));
    const bad = await s.send('PUT', '/v2/m/index/manifests/multi', {
      headers: { 'content-type': OCI_INDEX },
      body: index([{ digest: child.digest, size: child.manifest.length }, { digest: sha256(other), size: other.length }]),
    });
    expect(bad.status).toBe(400);
    expect(bad.code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(JSON.stringify(bad.json())).toContain(sha256(other));
    const good = await s.send('PUT', '/v2/m/index/manifests/multi', { headers: { 'content-type': OCI_INDEX }, body: index([{ digest: child.digest, size: child.manifest.length }]) });
    expect(good.status).toBe(201);
    expect((await s.send('GET', '/v2/m/index/manifests/multi')).headers['content-type']).toBe(OCI_INDEX);
  });

  it('accepts a manifest whose foreign layer (with urls) is absent, but not an absent ordinary layer', async () => {
    const config = Buffer.from('{"os":"windows","architecture":"amd64"}');
    const app = Buffer.from('windows app layer');
    await pushBlob(s, 'm/windows', config);
    await pushBlob(s, 'm/windows', app);
    const foreign = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: sha256('not here'), size: 8, urls: ['https://mcr.example/layer'] };
    const manifest = (first: Record<string, unknown>) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_MANIFEST,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256(config), size: config.length },
          layers: [first, { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha256(app), size: app.length }],
        }),
      );
    const ok = await s.send('PUT', '/v2/m/windows/manifests/ltsc2022', { headers: { 'content-type': DOCKER_MANIFEST }, body: manifest(foreign) });
    expect(ok.status).toBe(201);
    const { urls: _urls, ...ordinary } = foreign;
    const refused = await s.send('PUT', '/v2/m/windows/manifests/broken', {
      headers: { 'content-type': DOCKER_MANIFEST },
      body: manifest({ ...ordinary, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }),
    });
    expect(refused.code).toBe('MANIFEST_BLOB_UNKNOWN');
  });

  it('a referrer gets OCI-Subject; the referrers API lists it with artifactType and annotations, and filters', async () => {
    const subject = await pushImage(s, 'm/ref', 'v1', 'subject');
    const empty = Buffer.from('{}');
    const sbom = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
    await pushBlob(s, 'm/ref', empty);
    await pushBlob(s, 'm/ref', sbom);
    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: SBOM_TYPE,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
        layers: [{ mediaType: SBOM_TYPE, digest: sha256(sbom), size: sbom.length }],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
        annotations: { 'org.example.kind': 'sbom' },
      }),
    );
    const put = await s.send('PUT', `/v2/m/ref/manifests/${sha256(referrer)}`, { headers: { 'content-type': OCI_MANIFEST }, body: referrer });
    expect(put.status).toBe(201);
    expect(put.headers['oci-subject']).toBe(subject.digest);
    const list = await s.send('GET', `/v2/m/ref/referrers/${subject.digest}`);
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toBe(OCI_INDEX);
    const index = list.json<{ mediaType: string; manifests: Array<Record<string, unknown>> }>();
    expect(index.mediaType).toBe(OCI_INDEX);
    expect(index.manifests).toEqual([
      { mediaType: OCI_MANIFEST, digest: sha256(referrer), size: referrer.length, artifactType: SBOM_TYPE, annotations: { 'org.example.kind': 'sbom' } },
    ]);
    const filtered = await s.send('GET', `/v2/m/ref/referrers/${subject.digest}?artifactType=${encodeURIComponent('application/vnd.example.sig')}`);
    expect(filtered.headers['oci-filters-applied']).toBe('artifactType');
    expect(filtered.json<{ manifests: unknown[] }>().manifests).toEqual([]);
    const matching = await s.send('GET', `/v2/m/ref/referrers/${subject.digest}?artifactType=${encodeURIComponent(SBOM_TYPE)}`);
    expect(matching.json<{ manifests: unknown[] }>().manifests).toHaveLength(1);
    // Another repository does not see it; an unknown subject is an empty list, never 404.
    expect((await s.send('GET', `/v2/m/other/referrers/${subject.digest}`)).json<{ manifests: unknown[] }>().manifests).toEqual([]);
    const unknown = await s.send('GET', `/v2/m/ref/referrers/${sha256('nothing')}`);
    expect(unknown.status).toBe(200);
  });

  it('DELETE by tag removes the tag only; DELETE by digest removes the manifest', async () => {
    const { digest } = await pushImage(s, 'm/del', 'v1', 'to-delete');
    expect((await s.send('DELETE', '/v2/m/del/manifests/v1')).status).toBe(202);
    expect((await s.send('GET', '/v2/m/del/manifests/v1')).status).toBe(404);
    expect((await s.send('GET', `/v2/m/del/manifests/${digest}`)).status).toBe(200);
    expect((await s.send('DELETE', `/v2/m/del/manifests/${digest}`)).status).toBe(202);
    const gone = await s.send('GET', `/v2/m/del/manifests/${digest}`);
    expect(gone.code).toBe('MANIFEST_UNKNOWN');
    expect((await s.send('DELETE', `/v2/m/del/manifests/${digest}`)).code).toBe('MANIFEST_UNKNOWN');
  });

  it('tags/list is sorted and names the repository', async () => {
    for (const tag of ['b', 'a', 'c']) await pushImage(s, 'm/tags', tag, `tag-${tag}`);
    const list = await s.send('GET', '/v2/m/tags/tags/list');
    expect(list.json()).toEqual({ name: 'm/tags', tags: ['a', 'b', 'c'] });
  });

  it('a manifest file cut short in the store is a 500, never a body shorter than its Content-Length', async () => {
    const { digest, manifest } = await pushImage(s, 'm/cut', 'v1', 'cut-short');
    await truncate(s.store.blobPath(parseDigest(digest)), manifest.length >> 1);
    const get = await s.send('GET', '/v2/m/cut/manifests/v1');
    expect(get.status).toBe(500);
    expect(get.code).toBe('UNKNOWN');
    // HEAD reads no bytes: it still answers from the index.
    expect((await s.send('HEAD', '/v2/m/cut/manifests/v1')).status).toBe(200);
  });

  it('a manifest file gone from the store (swept under a lookup) is a 404 MANIFEST_UNKNOWN', async () => {
    const { digest } = await pushImage(s, 'm/gone', 'v1', 'gone-file');
    await rm(s.store.blobPath(parseDigest(digest)));
    const get = await s.send('GET', `/v2/m/gone/manifests/${digest}`);
    expect(get.status).toBe(404);
    expect(get.code).toBe('MANIFEST_UNKNOWN');
  });
});
