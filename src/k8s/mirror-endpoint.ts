import { ErrorCode, UsageError } from '../core/errors.js';
import { parseDestination } from '../transfer/retag.js';

// The registry Kubernetes nodes pull from: `ferry serve` (the store, under
// upstream names) or the site registry images were imported into, possibly
// under a path prefix (`ferry import --to site.example/mirror`).

export interface MirrorEndpoint {
  scheme: 'http' | 'https';
  /** host[:port], normalised (lowercase). */
  host: string;
  /** Path prefix images live under on the mirror ('' for none), e.g. `mirror` or `team/mirror`. */
  prefix: string;
}

/**
 * Docker's rule for a name's first component: only something with a '.', a ':'
 * or `localhost` is a host. Anything else would make `site/x/nginx` a Docker Hub
 * path, so a mirror named that way is refused rather than silently misread.
 */
export function requireHostLike(host: string, flag: string): void {
  if (host.includes('.') || host.includes(':') || host === 'localhost') return;
  throw new UsageError(`${flag}: '${host}' does not look like a registry host`, {
    code: ErrorCode.usage,
    hint: `Kubernetes reads '${host}/…' as a Docker Hub path; give a host with a domain or a port, e.g. ${host}.example.com or ${host}:5000`,
  });
}

/** Parses `--registry [http(s)://]HOST[:PORT][/PREFIX]`; `plainHttp` (or an http:// scheme) selects http. */
export function parseMirrorEndpoint(text: string, options: { plainHttp?: boolean; flag?: string } = {}): MirrorEndpoint {
  const flag = options.flag ?? '--registry';
  const scheme = /^http:\/\//i.test(text.trim()) || options.plainHttp ? 'http' : 'https';
  const destination = parseDestination(text);
  requireHostLike(destination.registry, flag);
  return { scheme, host: destination.registry, prefix: destination.prefix };
}

export function formatEndpoint(m: MirrorEndpoint): string {
  return `${m.scheme}://${m.host}${m.prefix ? `/${m.prefix}` : ''}`;
}
