import type { HttpClient } from './transport/http-client.js';
import type { ManifestCache } from './manifest-cache.js';

// What every resource file (manifests, blobs, uploads, tags, referrers) needs
// about the repository it works on. Plain data, built by RegistryClient.

export interface RepoContext {
  http: HttpClient;
  /** Repository path, validated. */
  name: string;
  /** Registry host as the user wrote it (normalised), for messages. */
  registry: string;
  chunkSize: number;
  monolithicThreshold: number;
  manifests: ManifestCache;
}

/** `registry/name` for messages. */
export function where(ctx: RepoContext, suffix = ''): string {
  return `${ctx.registry}/${ctx.name}${suffix}`;
}
