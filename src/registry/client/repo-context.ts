import { repositoryScope, type Scope } from './auth/scope.js';
import type { HttpClient } from './transport/http-client.js';
import type { ManifestCache } from './manifest-cache.js';
import type { TagSnapshots } from './tag-snapshot.js';

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
  /** What this client learnt about its registry, shared by all its repositories. */
  registryTraits: RegistryTraits;
  /** Tag listings the referrer look-ups share, per repository (tag-snapshot.ts). */
  tagSnapshots: TagSnapshots;
  /** A push target: its reads (what is there already?) ask for pull,push, as docker does, so a refusal names the push. */
  pushing?: boolean;
}

/**
 * Facts about the registry learnt once per client. `referrersApi` turns false
 * after the first 404/not-an-index answer: OCI 1.1 forbids a 404 from a registry
 * that offers the API, so asking again for every manifest (distribution 2.8) is
 * one wasted round trip per manifest of an export.
 */
export interface RegistryTraits {
  referrersApi?: boolean;
  /**
   * The first referrers-API request, while `referrersApi` is still unknown: lookups started meanwhile
   * wait for its answer instead of each asking (an import's tag phase checked 10 subjects at once and
   * sent 10 API requests, all 404 on distribution 2.8).
   */
  referrersApiProbe?: Promise<void>;
}

/** The scope of a read: pull, or pull,push on a push target (one token serves the whole push). */
export function readScope(ctx: RepoContext): Scope {
  return ctx.pushing ? repositoryScope(ctx.name, 'pull', 'push') : repositoryScope(ctx.name, 'pull');
}

/** `registry/name` for messages. */
export function where(ctx: RepoContext, suffix = ''): string {
  return `${ctx.registry}/${ctx.name}${suffix}`;
}
