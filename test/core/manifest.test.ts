import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/digest.js';
import { MAX_MANIFEST_BYTES } from '../../src/core/limits.js';
import { edges, parseManifest, successors, type ImageIndex, type ImageManifest } from '../../src/core/manifest.js';
import { MediaType } from '../../src/core/media-types.js';
import { failure } from '../helpers/thrown.js';

const d = (n: number) => digestOf(`blob ${n}`);
const json = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const desc = (mediaType: string, n: number, size = 100 + n, extra: object = {}) => ({ mediaType, digest: d(n), size, ...extra });

const ociImage = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: desc(MediaType.ociConfig, 1),
  layers: [desc(MediaType.ociLayerGzip, 2), desc(MediaType.ociLayerZstd, 3)],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
};

describe('parseManifest: accepted documents', () => {
  it('OCI index with platforms', () => {
    const m = parseManifest(
      json({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          desc(MediaType.ociManifest, 1, 500, { platform: { os: 'linux', architecture: 'amd64' } }),
          desc(MediaType.ociManifest, 2, 501, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
        ],
      }),
      undefined,
      'idx',
    ) as ImageIndex;
    expect(m.kind).toBe('index');
    expect(m.mediaType).toBe(MediaType.ociIndex);
    expect(m.manifests.map((x) => x.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    expect(successors(m).map((x) => x.digest)).toEqual([d(1), d(2)]);
    expect(edges(m).map((e) => e.kind)).toEqual(['manifest', 'manifest']);
  });

  it('OCI image manifest: config then layers in order', () => {
    const m = parseManifest(json(ociImage), MediaType.ociManifest, 'img') as ImageManifest;
    expect(m.kind).toBe('manifest');
    expect(m.config).toEqual(ociImage.config);
    expect(m.layers).toEqual(ociImage.layers);
    expect(m.annotations).toEqual(ociImage.annotations);
    expect(successors(m).map((x) => x.digest)).toEqual([d(1), d(2), d(3)]);
    expect(edges(m).map((e) => e.kind)).toEqual(['config', 'layer', 'layer']);
  });

  it('Docker manifest list and Docker schema 2 keep their media types', () => {
    const list = parseManifest(
      json({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [desc(MediaType.dockerManifest, 4, 428, { platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5329' } })] }),
      undefined,
      'list',
    ) as ImageIndex;
    expect(list).toMatchObject({ kind: 'index', mediaType: MediaType.dockerManifestList });
    expect(list.manifests[0]!.platform!['os.version']).toBe('10.0.17763.5329');
    const s2 = parseManifest(json({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: desc(MediaType.dockerConfig, 5), layers: [desc(MediaType.dockerLayer, 6)] }), undefined, 's2');
    expect(s2).toMatchObject({ kind: 'manifest', mediaType: MediaType.dockerManifest });
  });

  it('without a mediaType field: the document shape decides', () => {
    const { mediaType: _, ...bare } = ociImage;
    expect(parseManifest(json(bare), undefined, 'x')).toMatchObject({ kind: 'manifest', mediaType: MediaType.ociManifest });
    expect(parseManifest(json({ schemaVersion: 2, manifests: [] }), undefined, 'x')).toMatchObject({ kind: 'index', mediaType: MediaType.ociIndex, manifests: [] });
    // The caller's media type (from the descriptor) is used when the document has none.
    expect(parseManifest(json(bare), MediaType.dockerManifest, 'x').mediaType).toBe(MediaType.dockerManifest);
  });

  it('artifact with subject: edges() includes the subject, successors() does not', () => {
    const subject = desc(MediaType.ociManifest, 9, 1234);
    const m = parseManifest(
      json({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: 'application/vnd.example.sbom.v1',
        config: { mediaType: MediaType.ociEmpty, digest: digestOf('{}'), size: 2, data: 'e30=' },
        layers: [desc('application/spdx+json', 7)],
        subject,
      }),
      undefined,
      'sbom',
    );
    expect(m.artifactType).toBe('application/vnd.example.sbom.v1');
    expect(m.subject).toEqual(subject);
    expect((m as ImageManifest).config.data).toBe('e30=');
    expect(successors(m).map((x) => x.digest)).not.toContain(subject.digest);
    expect(edges(m)).toContainEqual({ kind: 'subject', descriptor: subject });
    expect(edges(m)).toHaveLength(3);
  });

  it('foreign layer descriptors keep their urls', () => {
    const urls = ['https://mcr.microsoft.com/v2/windows/servercore/blobs/' + d(8)];
    const m = parseManifest(
      json({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: desc(MediaType.dockerConfig, 1), layers: [desc(MediaType.dockerForeignLayer, 8, 1_500_000_000, { urls }), desc(MediaType.dockerLayer, 2)] }),
      undefined,
      'win',
    ) as ImageManifest;
    expect(m.layers[0]!.urls).toEqual(urls);
    expect(m.layers[1]!.urls).toBeUndefined();
  });
});

describe('parseManifest: refused documents', () => {
  it.each([
    ['schemaVersion 1', json({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), undefined],
    ['v1 media type in the document', json({ schemaVersion: 2, mediaType: MediaType.dockerSchema1, config: desc(MediaType.dockerConfig, 1) }), undefined],
    ['signed v1 media type from the descriptor', json({ fsLayers: [], signatures: [] }), MediaType.dockerSchema1Signed],
  ])('schema 1 (%s) → ERR_UNSUPPORTED_MEDIA_TYPE', (_label, bytes, mt) => {
    const err = failure(() => parseManifest(bytes, mt, 'old:1'));
    expect(err.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(err.message).toContain('old:1');
  });

  it.each([
    ['not JSON', Buffer.from('{"schemaVersion":2,')],
    ['a JSON array', json([ociImage])],
    ['no recognisable shape', json({ schemaVersion: 2, mediaType: 'application/x-thing' })],
    ['schemaVersion missing', json({ ...ociImage, schemaVersion: undefined })],
    ['index without manifests', json({ schemaVersion: 2, mediaType: MediaType.ociIndex })],
    ['layers not an array', json({ ...ociImage, layers: {} })],
  ])('%s → ERR_MANIFEST_INVALID exit 5', (_label, bytes) => {
    const err = failure(() => parseManifest(bytes, undefined, 'm@x'));
    expect(err.code).toBe('ERR_MANIFEST_INVALID');
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain('m@x');
  });

  it('over 4 MiB → ERR_MANIFEST_TOO_LARGE exit 5, even before parsing', () => {
    const err = failure(() => parseManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20), undefined, 'big'));
    expect(err.code).toBe('ERR_MANIFEST_TOO_LARGE');
    expect(err.exitCode).toBe(5);
    // Exactly at the limit it is parsed (padding whitespace is valid JSON).
    const body = json(ociImage);
    const padded = Buffer.concat([body, Buffer.alloc(MAX_MANIFEST_BYTES - body.length, 0x20)]);
    expect(parseManifest(padded, undefined, 'ok').kind).toBe('manifest');
  });

  it.each([
    ['bad digest', 'layers[1]', { ...ociImage, layers: [ociImage.layers[0], { ...ociImage.layers[1], digest: 'sha256:abc' }] }, 'sha256:abc'],
    ['negative size', 'layers[1]', { ...ociImage, layers: [ociImage.layers[0], { ...ociImage.layers[1], size: -1 }] }, "size '-1'"],
    ['fractional size', 'config', { ...ociImage, config: { ...ociImage.config, size: 1.5 } }, "size '1.5'"],
    ['non-http urls', 'layers[0]', { ...ociImage, layers: [{ ...ociImage.layers[0], urls: ['file:///etc/passwd'] }] }, 'urls'],
    ['missing config', 'config', { ...ociImage, config: null }, 'not an object'],
    ['bad index entry', 'manifests[0]', { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ digest: d(1), size: 1 }] }, 'mediaType'],
    ['bad subject', 'subject', { ...ociImage, subject: { mediaType: MediaType.ociManifest, digest: 'md5:x', size: 1 } }, 'md5:x'],
  ])('descriptor with %s → ERR_MANIFEST_INVALID naming %s', (_label, path, doc, fragment) => {
    const err = failure(() => parseManifest(json(doc), undefined, 'app:v1'));
    expect(err.code).toBe('ERR_MANIFEST_INVALID');
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain(`app:v1 ${path}`);
    expect(err.message).toContain(fragment);
  });
});
