import type { LimitFunction } from 'p-limit';
import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { isManifest } from '../core/media-types.js';
import { successors } from '../core/manifest.js';
import type { RegistryClient } from '../registry/client/index.js';
import { INVENTORY_FORMAT, type Inventory } from './inventory.js';
import { readManifest } from './read-manifest.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// `ferry inventory REGISTRY`: walk every tag of every repository (or of the
// ones named) and write down each blob the registry holds, so the connected side
// can leave them out of the next bundle.

async function walk(source: ContentSource, root: Descriptor, seen: Map<string, Descriptor>, limit: LimitFunction): Promise<void> {
  if (seen.has(root.digest)) return;
  seen.set(root.digest, root);
  if (!isManifest(root.mediaType)) return;
  const { manifest } = await limit(() => readManifest(source, root));
  await Promise.all(successors(manifest).map((child) => walk(source, child, seen, limit)));
}

export async function takeInventory(client: RegistryClient, options: { repositories?: string[]; limit: LimitFunction; signal?: AbortSignal }): Promise<Inventory> {
  const repositories: string[] = options.repositories?.length ? options.repositories : [];
  if (repositories.length === 0) for await (const name of client.catalog(options.signal ? { signal: options.signal } : {})) repositories.push(name);
  const seen = new Map<string, Descriptor>();
  const images: Inventory['images'] = [];
  for (const name of repositories.sort()) {
    const repo = client.repository(name);
    for await (const tag of repo.tags()) {
      const root = await options.limit(() => repo.resolve(tag));
      images.push({ name: `${client.registry}/${name}:${tag}`, digest: root.digest });
      await walk(repo, root, seen, options.limit);
    }
  }
  return {
    format: INVENTORY_FORMAT,
    registry: client.registry,
    created: new Date().toISOString(),
    images,
    blobs: [...seen.values()].map((d) => ({ digest: d.digest, size: d.size })).sort(byCodeUnits((b) => b.digest)),
  };
}
