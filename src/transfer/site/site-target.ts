import { normalizeRegistry, parseReference, validateRepository, type Reference } from '../../core/index.js';

// What `ferry ls` / `ferry rm` / `ferry prune` are pointed at, parsed with the
// one reference grammar (core/reference.ts): a registry (`HOST[:PORT]`), a
// repository (`HOST/REPO`), or one manifest (`HOST/REPO:TAG`, `HOST/REPO@sha256:…`).
// What `ferry ls` prints is exactly what these accept back (design §7).

export type SiteTarget =
  | { kind: 'registry'; registry: string }
  | { kind: 'repository'; registry: string; repository: string }
  | { kind: 'manifest'; ref: Reference };

/** True when the text is a bare host, not a Docker Hub repository (`localhost`, `host:port`, `a.b`). */
function isHost(text: string): boolean {
  return text.includes('.') || text.includes(':') || text === 'localhost';
}

export function parseSiteTarget(input: string): SiteTarget {
  const text = input.trim().replace(/^(?:https?|docker):\/\//i, '').replace(/\/+$/, '');
  if (!text.includes('/') && !text.includes('@') && isHost(text)) return { kind: 'registry', registry: normalizeRegistry(text) };
  const slash = text.lastIndexOf('/');
  const pinned = text.includes('@') || text.lastIndexOf(':') > slash;
  const ref = parseReference(text);
  if (pinned) return { kind: 'manifest', ref };
  return { kind: 'repository', registry: ref.registry, repository: validateRepository(ref.repository) };
}

/** `host/repo` (the name `ferry ls REGISTRY` prints). */
export function repositoryRef(registry: string, repository: string): string {
  return `${registry}/${repository}`;
}
