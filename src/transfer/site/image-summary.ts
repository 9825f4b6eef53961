import type { LimitFunction } from 'p-limit';
import { formatPlatform, isConfig, type Descriptor, type Digest, type ImageManifest } from '../../core/index.js';
import { configPlatform as readConfigPlatform } from '../config-platform.js';
import type { ManifestNode, ManifestNodes } from './manifest-node.js';

// What `ferry ls --long` and `ferry ls REF` say about one manifest: digest,
// media type (artifact type for artifacts), platforms and size. The size is
// every distinct blob the image needs (manifests, configs, layers) counted once,
// so a layer shared by two platforms is not counted twice. A platform comes from
// the index entry, else from the image config (one small GET).

export interface ImageSummary {
  digest: Digest;
  mediaType: string;
  artifactType?: string;
  /** `os/arch[/variant][:os.version]`, one per platform manifest; empty for artifacts. */
  platforms: string[];
  /** Bytes of every distinct blob reachable from it. */
  size: number;
  /** The manifest it refers to, when it is a referrer. */
  subject?: Digest;
  /** An index's entries, in order. */
  children: ChildSummary[];
}

export interface ChildSummary {
  digest: Digest;
  mediaType: string;
  artifactType?: string;
  platform?: string;
  size: number;
}

const MAX_DEPTH = 4;

async function configPlatform(nodes: ManifestNodes, config: Descriptor): Promise<string | undefined> {
  const p = await readConfigPlatform(nodes.repo, config, nodes.repo.describe);
  return p ? formatPlatform(p) : undefined;
}

function artifactTypeOf(node: ManifestNode): string | undefined {
  const m = node.manifest;
  if (m.artifactType) return m.artifactType;
  return m.kind === 'manifest' && !isConfig(m.config.mediaType) ? m.config.mediaType : undefined;
}

/** Adds every blob of `node` (and, for an index, of its children) to `blobs`. */
async function collect(nodes: ManifestNodes, node: ManifestNode, blobs: Map<string, number>, limit: LimitFunction, depth: number): Promise<void> {
  blobs.set(node.descriptor.digest, node.descriptor.size);
  const m = node.manifest;
  if (m.kind === 'manifest') {
    for (const d of [m.config, ...m.layers]) blobs.set(d.digest, d.size);
    return;
  }
  if (depth >= MAX_DEPTH) return;
  await Promise.all(m.manifests.map((d) => limit(() => nodes.get(d.digest)).then((child) => collect(nodes, child, blobs, limit, depth + 1))));
}

function total(blobs: Map<string, number>): number {
  let n = 0;
  for (const size of blobs.values()) n += size;
  return n;
}

async function childSummary(nodes: ManifestNodes, entry: Descriptor, limit: LimitFunction): Promise<ChildSummary> {
  const node = await limit(() => nodes.get(entry.digest));
  const blobs = new Map<string, number>();
  await collect(nodes, node, blobs, limit, 1);
  const out: ChildSummary = { digest: entry.digest, mediaType: node.descriptor.mediaType, size: total(blobs) };
  const artifactType = artifactTypeOf(node);
  if (artifactType) out.artifactType = artifactType;
  const platform = entry.platform ? formatPlatform(entry.platform) : node.manifest.kind === 'manifest' && !artifactType ? await limit(() => configPlatform(nodes, (node.manifest as ImageManifest).config)) : undefined;
  if (platform) out.platform = platform;
  return out;
}

/** Summarises the manifest `reference` (tag or digest) names. */
export async function summarize(nodes: ManifestNodes, reference: string, limit: LimitFunction): Promise<ImageSummary> {
  const node = await nodes.get(reference);
  const blobs = new Map<string, number>();
  await collect(nodes, node, blobs, limit, 0);
  const m = node.manifest;
  const children = m.kind === 'index' ? await Promise.all(m.manifests.map((d) => childSummary(nodes, d, limit))) : [];
  const artifactType = artifactTypeOf(node);
  let platforms: string[];
  if (m.kind === 'index') platforms = children.flatMap((c) => (c.platform ? [c.platform] : []));
  else if (artifactType) platforms = [];
  else platforms = [await limit(() => configPlatform(nodes, m.config))].filter((p): p is string => p !== undefined);
  const summary: ImageSummary = { digest: node.descriptor.digest, mediaType: node.descriptor.mediaType, platforms, size: total(blobs), children };
  if (artifactType) summary.artifactType = artifactType;
  if (node.subject) summary.subject = node.subject;
  return summary;
}
