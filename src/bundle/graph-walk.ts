import type { Readable } from 'node:stream';
import { ANNOTATION_REFERRER_TAG, type Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { ErrorCode, UsageError } from '../core/errors.js';
import { verifyBytes } from '../core/hashing.js';
import { MAX_MANIFEST_BYTES } from '../core/limits.js';
import { edges, parseManifest, type Manifest } from '../core/manifest.js';
import { isConfig, isManifest } from '../core/media-types.js';
import type { Platform } from '../core/platform.js';
import { readCapped, readFileCapped } from '../core/read-capped.js';
import { formatReference, parseReference } from '../core/reference.js';
import type { BundleGraph, GraphBlob, GraphEdge, GraphImage, GraphManifest, GraphReferrer } from './bundle-graph.js';
import type { UpstreamSignature } from './format.js';
import type { BlobKind } from './manifest-db-schema.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// Walks every image's graph from its root through `fetch`, reading only
// manifests and image configs into memory (capped, digest-checked), and
// lists every blob once: the plan the writer serialises. Configs give the
// platform of single-arch images and the newest `created` date.

export type FetchBlob = (desc: Descriptor) => Promise<Readable>;
/** The local file holding a blob's bytes (the store's), or undefined: see WalkSources. */
export type LocalFile = (desc: Descriptor) => string | undefined;

/**
 * Where the walk reads manifests and configs: from `localFile` at once when it names one,
 * else streamed from `fetch`. At 1,000 images (~3,000 of them), streamed one after another from
 * the store, they left the write half idle: an open, reads and a close each on the thread pool.
 */
export interface WalkSources {
  fetch: FetchBlob;
  localFile?: LocalFile | undefined;
}

export interface BundleImageInput {
  /** Full reference; stored in canonical form (`nginx` → `docker.io/library/nginx:latest`). */
  name: string;
  root: Descriptor;
  /** Referrer manifests (signatures, SBOMs) of this image: walked as roots too. */
  referrers?: readonly Descriptor[];
  /** The publisher's signature a signature policy accepted; recorded in bundle.json. */
  upstreamSignature?: UpstreamSignature;
}

export interface WalkResult {
  graph: BundleGraph;
  /** Bytes of every manifest and image config read during the walk (metadata only). */
  metadata: Map<Digest, Buffer>;
  /** The newest image config `created` (whole seconds), if any config had one after 1970. */
  newestCreated?: Date;
}

const KIND_RANK: Record<BlobKind, number> = { manifest: 0, config: 1, layer: 2 };

function normalizeImages(images: readonly BundleImageInput[]): { image: GraphImage; input: BundleImageInput }[] {
  const byName = new Map<string, { image: GraphImage; input: BundleImageInput }>();
  for (const input of images) {
    const ref = parseReference(input.name);
    const name = formatReference(ref);
    if (ref.digest && ref.digest !== input.root.digest) throw new UsageError(`image ${name}: the reference pins ${ref.digest} but the root is ${input.root.digest}`);
    if (!isManifest(input.root.mediaType)) {
      throw new UsageError(`image ${name}: root media type '${input.root.mediaType}' is not a manifest or index`, { code: ErrorCode.unsupportedMediaType });
    }
    if (byName.has(name)) throw new UsageError(`image ${name} is listed twice`);
    const image: GraphImage = { name, registry: ref.registry, repository: ref.repository, root: input.root };
    if (ref.tag !== undefined) image.tag = ref.tag;
    if (input.upstreamSignature) image.upstreamSignature = input.upstreamSignature;
    byName.set(name, { image, input });
  }
  return [...byName.values()].sort(byCodeUnits((w) => w.image.name));
}

function configPlatform(config: Record<string, unknown>): Platform | undefined {
  const { os, architecture, variant } = config;
  if (typeof os !== 'string' || typeof architecture !== 'string' || os === '' || architecture === '') return undefined;
  const p: Platform = { os, architecture };
  if (typeof variant === 'string' && variant !== '') p.variant = variant;
  const version = config['os.version'];
  if (typeof version === 'string' && version !== '') p['os.version'] = version;
  return p;
}

class GraphWalker {
  readonly blobs = new Map<Digest, GraphBlob>();
  readonly manifests = new Map<Digest, GraphManifest>();
  readonly edges: GraphEdge[] = [];
  readonly referrers = new Map<string, GraphReferrer>();
  readonly metadata = new Map<Digest, Buffer>();
  newest = 0;
  private readonly sources: WalkSources;
  private readonly assumes: ReadonlySet<string>;
  private readonly signal: AbortSignal | undefined;

  constructor(sources: WalkSources, assumes: ReadonlySet<string>, signal: AbortSignal | undefined) {
    this.sources = sources;
    this.assumes = assumes;
    this.signal = signal;
  }

  private addBlob(desc: Descriptor, kind: BlobKind): boolean {
    if (this.blobs.has(desc.digest)) return false;
    const descriptor: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
    if (desc.urls && desc.urls.length > 0) descriptor.urls = [...desc.urls];
    this.blobs.set(desc.digest, { descriptor, kind, included: !this.assumes.has(desc.digest) });
    return true;
  }

  private async readSmall(desc: Descriptor, subject: string): Promise<Buffer> {
    this.signal?.throwIfAborted();
    const path = this.sources.localFile?.(desc);
    const local = path === undefined ? undefined : readFileCapped(path, desc.size, MAX_MANIFEST_BYTES, subject);
    const bytes = local ?? (await readCapped(await this.sources.fetch(desc), MAX_MANIFEST_BYTES, subject));
    verifyBytes(bytes, desc, subject);
    this.metadata.set(desc.digest, bytes);
    return bytes;
  }

  /** Walks a manifest or index; returns the parsed manifest (already walked ones are parsed again from memory). */
  async visit(desc: Descriptor, platform: Platform | undefined, subject: string): Promise<Manifest> {
    const held = this.metadata.get(desc.digest);
    if (held && this.manifests.has(desc.digest)) {
      const known = this.manifests.get(desc.digest);
      if (known && !known.platform && platform) known.platform = platform;
      return parseManifest(held, desc.mediaType, subject);
    }
    this.addBlob(desc, 'manifest');
    const manifest = parseManifest(await this.readSmall(desc, subject), desc.mediaType, subject);
    const node: GraphManifest = { digest: desc.digest, mediaType: desc.mediaType };
    if (manifest.artifactType) node.artifactType = manifest.artifactType;
    if (manifest.subject) node.subject = manifest.subject.digest;
    this.manifests.set(desc.digest, node);
    edges(manifest).forEach((e, position) => this.edges.push({ parent: desc.digest, position, kind: e.kind, child: e.descriptor.digest }));
    if (manifest.kind === 'index') {
      for (const [i, child] of manifest.manifests.entries()) {
        if (isManifest(child.mediaType)) await this.visit(child, child.platform, `${subject} manifests[${i}]`);
        else this.addBlob(child, 'layer');
      }
    } else {
      const fromConfig = await this.visitConfig(manifest.config, `${subject} config`);
      const chosen = platform ?? fromConfig;
      if (chosen) node.platform = chosen;
      for (const layer of manifest.layers) this.addBlob(layer, 'layer');
    }
    return manifest;
  }

  private async visitConfig(desc: Descriptor, subject: string): Promise<Platform | undefined> {
    const fresh = this.addBlob(desc, 'config');
    if (!isConfig(desc.mediaType) || desc.size > MAX_MANIFEST_BYTES) return undefined;
    const bytes = this.metadata.get(desc.digest) ?? (fresh ? await this.readSmall(desc, subject) : undefined);
    if (!bytes) return undefined;
    let config: unknown;
    try {
      config = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined; // carried as is; a config we cannot read simply names no platform
    }
    if (typeof config !== 'object' || config === null) return undefined;
    const record = config as Record<string, unknown>;
    const created = typeof record.created === 'string' ? Date.parse(record.created) : Number.NaN;
    if (created > this.newest) this.newest = created;
    return configPlatform(record);
  }
}

export async function walkBundleGraph(
  images: readonly BundleImageInput[],
  sources: WalkSources,
  assumes: readonly Descriptor[] = [],
  signal?: AbortSignal,
): Promise<WalkResult> {
  const walker = new GraphWalker(sources, new Set(assumes.map((d) => d.digest)), signal);
  const normalized = normalizeImages(images);
  for (const { image } of normalized) await walker.visit(image.root, image.root.platform, image.name);
  for (const { image, input } of normalized) {
    for (const [i, ref] of (input.referrers ?? []).entries()) {
      if (!isManifest(ref.mediaType)) throw new UsageError(`image ${image.name}: referrer ${ref.digest} is not a manifest`);
      const manifest = await walker.visit(ref, undefined, `${image.name} referrers[${i}]`);
      const subject = manifest.subject?.digest ?? image.root.digest;
      const artifactType = manifest.artifactType ?? (manifest.kind === 'manifest' ? manifest.config.mediaType : undefined);
      const key = `${subject} ${ref.digest}`;
      const tag = ref.annotations?.[ANNOTATION_REFERRER_TAG];
      if (!walker.referrers.has(key)) walker.referrers.set(key, { subject, digest: ref.digest, image: image.name, ...(artifactType ? { artifactType } : {}), ...(tag ? { tag } : {}) });
    }
  }
  // Tar order: manifests, then configs, then layers; discovery order within each.
  const blobs = [...walker.blobs.values()].map((b, i) => ({ b, i })).sort((x, y) => KIND_RANK[x.b.kind] - KIND_RANK[y.b.kind] || x.i - y.i).map(({ b }) => b);
  const graph: BundleGraph = {
    images: normalized.map(({ image }) => image),
    blobs,
    manifests: [...walker.manifests.values()],
    edges: walker.edges,
    referrers: [...walker.referrers.values()],
  };
  const result: WalkResult = { graph, metadata: walker.metadata };
  if (walker.newest > 0) result.newestCreated = new Date(Math.floor(walker.newest / 1000) * 1000);
  return result;
}
