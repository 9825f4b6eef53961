import { upstreamRepositoryName } from '../../core/index.js';
import { isRepositoryName } from './repository-name.js';

export { upstreamRepositoryName };

// containerd mirrors (hosts.toml) add `?ns=<upstream host>` to every request. Images
// imported with `ferry import --to-store` are stored under `<host with ':' → '_'>/<path>`
// (design §4), e.g. `docker.io/library/alpine`, `127.0.0.1_5000/team/app`. This is the
// one place that knows the mapping. `ns` is only an alias: each candidate is a
// repository of its own, and the router checks access on each before it is read.

/**
 * The repositories a read of `name` may be served from, in order: with `ns`, the
 * upstream-prefixed name first, then the plain name; without it (or with an
 * unusable one, or one whose mapped name is not a valid repository name), the plain name.
 */
export function candidateRepositories(name: string, ns: string | null): string[] {
  if (ns === null || ns === '') return [name];
  let mapped: string;
  try {
    mapped = upstreamRepositoryName(ns, name);
  } catch {
    return [name];
  }
  return mapped === name || !isRepositoryName(mapped) ? [name] : [mapped, name];
}
