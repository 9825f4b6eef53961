// The realistic mix (issue 16.1): what real registries hold beside plain images,
// seeded into a fresh docker-registry each run (small; ~100 MiB, a few seconds):
//   mix/win:ltsc  a Windows-style Docker manifest list whose image's first layer
//                 is foreign: not in the registry, served from a separate host
//                 (foreignHost) named by the descriptor's `urls`, as MCR does
//   mix/app:1     an OCI image with an OCI referrer (an SBOM artifact with
//                 `subject`, listed in the `sha256-<hex>` tag-schema index, since
//                 distribution 2.8 has no referrers API) and a cosign `.sig` tag
//   mix/svc:2     a buildx-style OCI index: two platforms and their attestation
//                 manifests (unknown/unknown, vnd.docker.reference.*), a `.sig` tag
//   mix/tools:1   a plain Docker image (most of a real list still is)
// The foreign host is a Node server in the bench process (CPU counted for neither side).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MediaType } from '../../dist/core/media-types.js';
import { layerStream } from './layer.mjs';
import { closeAgent, pushBytes, pushStream, putManifest } from './push.mjs';

const M = 1024 * 1024;
// The project's own names (src/core/media-types.ts), built to dist/ before any bench runs.
const DOCKER = { list: MediaType.dockerManifestList, manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, layer: MediaType.dockerLayer, foreign: MediaType.dockerForeignLayer };
const OCI = { index: MediaType.ociIndex, manifest: MediaType.ociManifest, config: MediaType.ociConfig, layer: MediaType.ociLayerGzip, empty: MediaType.ociEmpty };
const LAYERS = { 'win-base': 40, 'win-app': 8, base: 20, app: 10, 'svc-amd64': 12, 'svc-arm64': 12, tools: 6 };

const json = (v) => Buffer.from(JSON.stringify(v));
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const tagOf = (digest) => `sha256-${digest.slice(7)}`;

/** Serves files under /foreign/<digest> (Range honoured): the layer host of a foreign layer. */
async function startForeignHost(files) {
  const server = createServer(async (req, res) => {
    const path = files.get(req.url.replace('/foreign/', ''));
    if (!path) return void res.writeHead(404).end();
    const size = (await stat(path)).size;
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, { 'content-length': String(size - start), 'content-type': 'application/octet-stream' });
    createReadStream(path, { start }).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => server.close(r)) };
}

class MixSeeder {
  constructor(base, work) {
    this.base = base;
    this.work = work;
    this.layers = new Map();
    this.blobs = new Map(); // digest → size (unique bytes moved)
    // What ferry carries beside the tagged images (signature tags, referrers by digest):
    // the peer is asked to copy these too, so both sides move the same set.
    this.extras = [];
    // What an export carries, where a client GETs it (lib/floor-pull.mjs): digest → { url, size, accept }.
    this.carried = new Map();
  }

  /** Counts `d`'s bytes; `at` (a path under the registry, or a foreign URL) when an export carries it. */
  count(d, at) {
    this.blobs.set(d.digest, d.size);
    if (at) this.carried.set(d.digest, { url: at.startsWith('http') ? at : `${this.base}${at}`, size: d.size, ...(d.mediaType && at.includes('/manifests/') ? { accept: d.mediaType } : {}) });
    return d;
  }

  blob(repo, d) {
    return this.count(d, `/v2/${repo}/blobs/${d.digest}`);
  }

  manifestAt(repo, d) {
    return this.count(d, `/v2/${repo}/manifests/${d.digest}`);
  }

  async layer(name, repo) {
    if (this.layers.has(`${repo}/${name}`)) return this.layers.get(`${repo}/${name}`);
    const gen = layerStream(`ferry-bench-mix/${name}`, LAYERS[name] * M, 1);
    const l = this.blob(repo, await pushStream(this.base, repo, gen.stream, gen.result));
    this.layers.set(`${repo}/${name}`, l);
    return l;
  }

  async bytes(repo, b) {
    return this.blob(repo, await pushBytes(this.base, repo, b));
  }

  async manifest(repo, t, platform, layers, reference) {
    const config = await this.bytes(repo, json({ architecture: platform.architecture, os: platform.os, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId ?? l.digest) } }));
    const m = json({
      schemaVersion: 2, mediaType: t.manifest,
      config: { mediaType: t.config, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType ?? t.layer, digest: l.digest, size: l.size, ...(l.urls ? { urls: l.urls } : {}) })),
    });
    return this.manifestAt(repo, await putManifest(this.base, repo, reference ?? sha(m), t.manifest, m));
  }

  /** A cosign-style signature: an OCI manifest tagged sha256-<hex>.sig, one simple-signing layer. */
  async signature(repo, subject) {
    const payload = await this.bytes(repo, json({ critical: { identity: { 'docker-reference': repo }, image: { 'docker-manifest-digest': subject.digest }, type: 'cosign container image signature' }, optional: null }));
    const config = await this.bytes(repo, json({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [payload.digest] } }));
    const m = json({
      schemaVersion: 2, mediaType: OCI.manifest,
      config: { mediaType: OCI.config, digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: payload.digest, size: payload.size, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQbench' } }],
    });
    this.manifestAt(repo, await putManifest(this.base, repo, `${tagOf(subject.digest)}.sig`, OCI.manifest, m));
    this.extras.push(`${repo}:${tagOf(subject.digest)}.sig`);
  }

  /** An OCI referrer (SBOM artifact with subject) and the tag-schema index that lists it. */
  async referrer(repo, subject) {
    const empty = await this.bytes(repo, Buffer.from('{}'));
    const sbom = await this.bytes(repo, json({ spdxVersion: 'SPDX-2.3', name: repo, packages: [] }));
    const m = json({
      schemaVersion: 2, mediaType: OCI.manifest, artifactType: 'application/spdx+json',
      config: { mediaType: OCI.empty, digest: empty.digest, size: empty.size },
      layers: [{ mediaType: 'application/spdx+json', digest: sbom.digest, size: sbom.size }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    });
    const desc = this.manifestAt(repo, await putManifest(this.base, repo, sha(m), OCI.manifest, m));
    // By digest: the tag-schema index that lists it is how it is found, not part of what is carried.
    this.extras.push(`${repo}@${desc.digest}`);
    const index = json({ schemaVersion: 2, mediaType: OCI.index, manifests: [{ ...desc, artifactType: 'application/spdx+json' }] });
    this.count(await putManifest(this.base, repo, tagOf(subject.digest), OCI.index, index));
  }

  /** A buildx attestation manifest for `image` (in-toto layer; platform unknown/unknown in the index). */
  async attestation(repo, image) {
    const statement = await this.bytes(repo, json({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://slsa.dev/provenance/v0.2', subject: [{ digest: { sha256: image.digest.slice(7) } }] }));
    const config = await this.bytes(repo, json({ architecture: 'unknown', os: 'unknown', rootfs: { type: 'layers', diff_ids: [statement.digest] } }));
    const m = json({
      schemaVersion: 2, mediaType: OCI.manifest,
      config: { mediaType: OCI.config, digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.in-toto+json', digest: statement.digest, size: statement.size, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }],
    });
    const desc = this.manifestAt(repo, await putManifest(this.base, repo, sha(m), OCI.manifest, m));
    return { ...desc, platform: { architecture: 'unknown', os: 'unknown' }, annotations: { 'vnd.docker.reference.digest': image.digest, 'vnd.docker.reference.type': 'attestation-manifest' } };
  }

  async windows(foreignHost, foreignFiles) {
    const repo = 'mix/win';
    const path = join(this.work, 'win-base.tar.gz');
    const gen = layerStream('ferry-bench-mix/win-base', LAYERS['win-base'] * M, 1);
    await pipeline(gen.stream, createWriteStream(path));
    const base = { ...gen.result(), mediaType: DOCKER.foreign };
    base.urls = [`http://${foreignHost}/foreign/${base.digest}`];
    foreignFiles.set(base.digest, path);
    this.count(base, base.urls[0]);
    const app = await this.layer('win-app', repo);
    const image = await this.manifest(repo, DOCKER, { os: 'windows', architecture: 'amd64' }, [base, app]);
    const list = json({ schemaVersion: 2, mediaType: DOCKER.list, manifests: [{ ...image, platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.20348.2340' } }] });
    this.manifestAt(repo, await putManifest(this.base, repo, 'ltsc', DOCKER.list, list));
    return `${repo}:ltsc`;
  }

  async app() {
    const repo = 'mix/app';
    const image = await this.manifest(repo, OCI, { os: 'linux', architecture: 'amd64' }, [await this.layer('base', repo), await this.layer('app', repo)], '1');
    await this.referrer(repo, image);
    await this.signature(repo, image);
    return `${repo}:1`;
  }

  async svc() {
    const repo = 'mix/svc';
    const children = [];
    for (const arch of ['amd64', 'arm64']) {
      const image = await this.manifest(repo, OCI, { os: 'linux', architecture: arch }, [await this.layer('base', repo), await this.layer(`svc-${arch}`, repo)]);
      children.push({ ...image, platform: { architecture: arch, os: 'linux' } });
    }
    for (const image of [...children]) children.push(await this.attestation(repo, image));
    const index = json({ schemaVersion: 2, mediaType: OCI.index, manifests: children });
    const desc = this.manifestAt(repo, await putManifest(this.base, repo, '2', OCI.index, index));
    await this.signature(repo, desc);
    return `${repo}:2`;
  }

  async tools() {
    const repo = 'mix/tools';
    await this.manifest(repo, DOCKER, { os: 'linux', architecture: 'amd64' }, [await this.layer('tools', repo)], '1');
    return `${repo}:1`;
  }
}

/**
 * Seeds the mix into the registry at `base`; returns { refs (paths), extras (the signature tags and
 * referrers ferry carries with refs, for the peer to copy too), unique bytes, foreign host (stop() it),
 * carried (what an export of refs carries: { url, size, accept? } each, for the floor) }.
 */
export async function seedMix(base, work) {
  const foreignFiles = new Map();
  const foreign = await startForeignHost(foreignFiles);
  try {
    const seeder = new MixSeeder(base, work);
    const refs = [await seeder.windows(foreign.host, foreignFiles), await seeder.app(), await seeder.svc(), await seeder.tools()];
    const unique = [...seeder.blobs.values()].reduce((a, b) => a + b, 0);
    return { refs, extras: seeder.extras, unique, foreign, carried: [...seeder.carried.values()] };
  } catch (e) {
    await foreign.stop();
    throw e;
  } finally {
    closeAgent();
  }
}
