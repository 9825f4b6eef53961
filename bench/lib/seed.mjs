// Generates the image set into a docker-registry storage directory under
// .bench/<mode>/, once: later runs start a registry on the cached directory.
// images.json, written last, marks the cache complete and records every digest.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageSet, SET_VERSION } from './image-set.mjs';
import { layerStream } from './layer.mjs';
import { closeAgent, pushBytes, pushStream, putManifest } from './push.mjs';
import { startRegistry } from './registry.mjs';

const T = {
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
    index: 'application/vnd.oci.image.index.v1+json',
  },
};

function json(value) {
  return Buffer.from(JSON.stringify(value));
}

async function mount(base, repo, digest, from) {
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST' });
  await res.arrayBuffer(); // an empty body
  return res.status === 201;
}

class Seeder {
  constructor(base, set, log) {
    this.base = base;
    this.set = set;
    this.log = log;
    this.layers = new Map(); // name → { digest, size, diffId, repo }
  }

  async layer(name, repo, level) {
    const known = this.layers.get(name);
    if (known) {
      if (known.repo !== repo && !(await mount(this.base, repo, known.digest, known.repo))) throw new Error(`mount of ${name} into ${repo} failed`);
      return known;
    }
    const size = this.set.layers[name];
    this.log(`  generating layer ${name} (${(size / 1048576).toFixed(0)} MiB)`);
    const gen = layerStream(`ferry-bench/${name}`, size, level ?? 1);
    const result = await pushStream(this.base, repo, gen.stream, gen.result);
    const entry = { ...result, repo };
    this.layers.set(name, entry);
    return entry;
  }

  /** One single-platform image; returns its manifest descriptor and every blob under it. */
  async manifest(repo, format, layerNames, platform, level) {
    const t = T[format];
    const layers = [];
    for (const name of layerNames) layers.push(await this.layer(name, repo, level));
    const config = json({
      created: '2024-01-01T00:00:00Z',
      architecture: platform.architecture,
      os: platform.os,
      config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layerNames.map((n) => ({ created: '2024-01-01T00:00:00Z', created_by: `bench layer ${n}` })),
    });
    const cfg = await pushBytes(this.base, repo, config);
    const manifest = json({
      schemaVersion: 2,
      mediaType: t.manifest,
      config: { mediaType: t.config, digest: cfg.digest, size: cfg.size },
      layers: layers.map((l) => ({ mediaType: t.layer, digest: l.digest, size: l.size })),
    });
    const desc = await putManifest(this.base, repo, `sha256:${createHash('sha256').update(manifest).digest('hex')}`, t.manifest, manifest);
    const blobs = [
      { digest: desc.digest, size: desc.size, kind: 'manifest', mediaType: t.manifest },
      { digest: cfg.digest, size: cfg.size, kind: 'config' },
      ...layers.map((l) => ({ digest: l.digest, size: l.size, kind: 'layer' })),
    ];
    return { desc, blobs };
  }

  async image(def) {
    const t = T[def.format];
    if (!def.platforms) {
      const { desc, blobs } = await this.manifest(def.repo, def.format, def.layers, { os: 'linux', architecture: 'amd64' }, def.level);
      const bytes = await readManifestBytes(this.base, def.repo, desc);
      await putManifest(this.base, def.repo, def.tag, desc.mediaType, bytes);
      return { ref: `${def.repo}:${def.tag}`, digest: desc.digest, mediaType: desc.mediaType, blobs };
    }
    const children = [];
    const blobs = [];
    for (const p of def.platforms) {
      const m = await this.manifest(def.repo, def.format, p.layers, p, def.level);
      children.push({ mediaType: m.desc.mediaType, digest: m.desc.digest, size: m.desc.size, platform: { architecture: p.architecture, os: p.os } });
      blobs.push(...m.blobs);
    }
    const index = json({ schemaVersion: 2, mediaType: t.index, manifests: children });
    const desc = await putManifest(this.base, def.repo, def.tag, t.index, index);
    blobs.unshift({ digest: desc.digest, size: desc.size, kind: 'manifest', mediaType: t.index });
    return { ref: `${def.repo}:${def.tag}`, digest: desc.digest, mediaType: desc.mediaType, blobs };
  }
}

async function readManifestBytes(base, repo, desc) {
  const res = await fetch(`${base}/v2/${repo}/manifests/${desc.digest}`, { headers: { accept: desc.mediaType } });
  if (res.status !== 200) throw new Error(`GET ${repo}@${desc.digest}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer()); // a manifest: a few hundred bytes
}

function uniqueOf(images) {
  const seen = new Map();
  for (const image of images) for (const b of image.blobs) seen.set(b.digest, b.size);
  return { blobs: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0) };
}

/**
 * The cached set for `mode` (generating it first if needed): { dir, storageDir,
 * images: [{ ref, digest, blobs }], extra: { delta, big, small }, unique }.
 */
export async function ensureImageSet(root, mode, log = () => {}) {
  const set = imageSet(mode);
  const dir = join(root, mode);
  const storageDir = join(dir, 'registry');
  const marker = join(dir, 'images.json');
  const fingerprint = JSON.stringify({ v: SET_VERSION, layers: set.layers, images: set.images, extra: set.extra });
  if (existsSync(marker)) {
    const cached = JSON.parse(await readFile(marker, 'utf8'));
    if (cached.fingerprint === fingerprint) return { ...cached, dir, storageDir };
  }
  log(`generating the ${mode} image set into ${dir} (once; cached for later runs)`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(storageDir, { recursive: true });
  const registry = await startRegistry({ storageDir, workDir: dir });
  try {
    const seeder = new Seeder(registry.url, set, log);
    const images = [];
    for (const def of set.images) images.push(await seeder.image(def));
    const extra = {};
    for (const [name, def] of Object.entries(set.extra)) extra[name] = await seeder.image(def);
    const webOld = images.find((i) => i.ref === 'bench/web:1.0');
    const oldDigests = new Set(webOld ? webOld.blobs.map((b) => b.digest) : []);
    extra.delta.newBytes = extra.delta.blobs.filter((b) => !oldDigests.has(b.digest)).reduce((n, b) => n + b.size, 0);
    const result = { fingerprint, mode, images, extra, unique: uniqueOf(images) };
    await writeFile(marker, JSON.stringify(result, null, 1));
    return { ...result, dir, storageDir };
  } finally {
    closeAgent();
    await registry.stop();
  }
}
