import { normalizeRegistry } from './reference.js';

/**
 * The local store keeps an image under its upstream host and path, so images of
 * equal paths from different registries never collide and a containerd mirror
 * request (`?ns=<upstream host>`) finds them: `docker.io/library/alpine`,
 * `127.0.0.1_5000/team/app` (':' is not allowed in a repository path).
 */
export function upstreamRepositoryName(host: string, path: string): string {
  return `${normalizeRegistry(host).replaceAll(':', '_')}/${path}`;
}
