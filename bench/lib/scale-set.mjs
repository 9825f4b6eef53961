// The scale bench's image sets: N small images written straight into
// distribution's storage layout on disk (blobs/, repositories/…/_layers,
// _manifests/revisions, _manifests/tags), no HTTP — 1,000 images in a second or
// two. Each image: a shared base layer (one of BASES), a shared middle layer
// (one per 10 images) and one own layer; every 4th image is a two-platform OCI
// index; every 10th has an OCI referrer (subject) reachable through the
// `sha256-<hex>` tag schema, the only way distribution 2.8 offers. Cached under
// .bench/scale/<N>/ with images.json (written last) marking it complete.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaType } from '../../dist/core/media-types.js';

export const SCALE_SET_VERSION = 1;
const BASES = 5;
const LAYER_BYTES = 8 * 1024;
// The project's own names (src/core/media-types.ts), built to dist/ before any bench runs.
const T = { manifest: MediaType.ociManifest, index: MediaType.ociIndex, config: MediaType.ociConfig, layer: MediaType.ociLayerGzip, artifact: 'application/vnd.example.sbom.v1+json' };

const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Deterministic, incompressible bytes for `name`. */
function bytesOf(name, size) {
  const out = Buffer.alloc(size);
  let seed = createHash('sha256').update(name).digest();
  for (let off = 0; off < size; off += 32) {
    seed.copy(out, off, 0, Math.min(32, size - off));
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

/** Files of distribution's storage layout, gathered then written in batches by flush(). */
export class Layout {
  constructor(root) {
    this.v2 = join(root, 'docker', 'registry', 'v2');
    this.blobs = new Map(); // hex → size, written once
    this.dirs = new Set();
    this.files = [];
  }

  blob(bytes) {
    const hex = sha(bytes);
    if (!this.blobs.has(hex)) {
      this.blobs.set(hex, bytes.length);
      this.files.push([join(this.v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'), bytes]);
    }
    return { digest: `sha256:${hex}`, size: bytes.length };
  }

  link(path, digest) {
    this.files.push([path, Buffer.from(digest)]);
  }

  layerIn(repo, desc) {
    this.link(join(this.v2, 'repositories', repo, '_layers', 'sha256', desc.digest.slice(7), 'link'), desc.digest);
  }

  manifestIn(repo, bytes, mediaType) {
    const desc = { mediaType, ...this.blob(bytes) };
    this.link(join(this.v2, 'repositories', repo, '_manifests', 'revisions', 'sha256', desc.digest.slice(7), 'link'), desc.digest);
    return desc;
  }

  tag(repo, tag, digest) {
    const base = join(this.v2, 'repositories', repo, '_manifests', 'tags', tag);
    this.link(join(base, 'current', 'link'), digest);
    this.link(join(base, 'index', 'sha256', digest.slice(7), 'link'), digest);
  }

  async flush() {
    const parents = new Set(this.files.map(([p]) => join(p, '..')));
    for (const d of parents) await mkdir(d, { recursive: true });
    for (let i = 0; i < this.files.length; i += 256) {
      await Promise.all(this.files.slice(i, i + 256).map(([p, b]) => writeFile(p, b)));
    }
    this.files = [];
  }
}

function platformManifest(layout, repo, layers, arch) {
  const config = layout.blob(Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })));
  layout.layerIn(repo, config);
  for (const l of layers) layout.layerIn(repo, l);
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: T.manifest,
    config: { mediaType: T.config, ...config },
    layers: layers.map((l) => ({ mediaType: T.layer, ...l })),
  }));
  return { desc: layout.manifestIn(repo, bytes, T.manifest), blobs: [config, ...layers] };
}

function referrer(layout, repo, subject, i) {
  const payload = layout.blob(bytesOf(`sbom-${i}`, 512));
  const empty = layout.blob(Buffer.from('{}'));
  layout.layerIn(repo, payload);
  layout.layerIn(repo, empty);
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: T.manifest,
    artifactType: T.artifact,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
    layers: [{ mediaType: T.artifact, ...payload }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  }));
  const desc = layout.manifestIn(repo, bytes, T.manifest);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: T.index, manifests: [{ ...desc, artifactType: T.artifact }] }));
  const indexDesc = layout.manifestIn(repo, index, T.index);
  layout.tag(repo, `sha256-${subject.digest.slice(7)}`, indexDesc.digest);
  return [desc, payload, empty, indexDesc];
}

function image(layout, i) {
  const repo = `scale/app${i}`;
  const layer = (name) => layout.blob(bytesOf(name, LAYER_BYTES));
  const base = layer(`base-${i % BASES}`);
  const middle = layer(`middle-${Math.floor(i / 10)}`);
  let desc;
  const blobs = [];
  if (i % 4 === 3) {
    const kids = ['amd64', 'arm64'].map((arch) => platformManifest(layout, repo, [base, middle, layer(`own-${i}-${arch}`)], arch));
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: T.index,
      manifests: kids.map((k, n) => ({ ...k.desc, platform: { os: 'linux', architecture: n ? 'arm64' : 'amd64' } })),
    }));
    desc = layout.manifestIn(repo, bytes, T.index);
    for (const k of kids) blobs.push(k.desc, ...k.blobs);
  } else {
    const m = platformManifest(layout, repo, [base, middle, layer(`own-${i}`)], 'amd64');
    desc = m.desc;
    blobs.push(...m.blobs);
  }
  blobs.unshift(desc);
  layout.tag(repo, '1.0', desc.digest);
  const extra = i % 10 === 9 ? referrer(layout, repo, desc, i) : [];
  return { repo, tag: '1.0', ref: `${repo}:1.0`, digest: desc.digest, referrers: extra.length ? 1 : 0, blobs: [...blobs, ...extra] };
}

/** The cached set of `n` images: { dir, storageDir, images, unique: { blobs, bytes } }. */
export async function ensureScaleSet(root, n, log = () => {}) {
  const dir = join(root, 'scale', String(n));
  const storageDir = join(dir, 'registry');
  const marker = join(dir, 'images.json');
  if (existsSync(marker)) {
    const cached = JSON.parse(await readFile(marker, 'utf8'));
    if (cached.version === SCALE_SET_VERSION) return { ...cached, dir, storageDir };
  }
  log(`  generating ${n} images into ${storageDir} (distribution layout, once)`);
  await rm(dir, { recursive: true, force: true });
  const layout = new Layout(storageDir);
  const images = [];
  for (let i = 0; i < n; i++) {
    images.push(image(layout, i));
    if (layout.files.length > 5000) await layout.flush();
  }
  await layout.flush();
  const unique = { blobs: layout.blobs.size, bytes: [...layout.blobs.values()].reduce((a, b) => a + b, 0) };
  const result = { version: SCALE_SET_VERSION, n, images: images.map(({ blobs, ...rest }) => rest), unique };
  await writeFile(marker, JSON.stringify(result));
  return { ...result, dir, storageDir };
}
