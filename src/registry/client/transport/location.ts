import { isIP } from 'node:net';
import { NetworkError, ErrorCode } from '../../../core/index.js';
import { isLoopbackHost } from '../options.js';
import { redactUrl } from './redact.js';

// Where a registry tells us to go next (an upload Location, a redirect). A
// relative Location resolves against the request URL. A registry on a public
// address must not send us to a private or loopback one: that is how a hostile
// registry would make ferry probe the internal network (ggcr nextLocation).

function isPrivateIPv4(ip: string): boolean {
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

function isPrivateIPv6(ip: string): boolean {
  const h = ip.toLowerCase();
  if (h === '::1' || h === '::') return true;
  if (h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80')) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && isPrivateIPv4(mapped[1] ?? '');
}

/** Loopback, private, link-local or unspecified: an address only the local network reaches. */
export function isPrivateHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(h)) return true;
  const kind = isIP(h);
  if (kind === 4) return isPrivateIPv4(h);
  if (kind === 6) return isPrivateIPv6(h);
  return false;
}

/** Resolves `location` against `from`, refusing a hop from a public host to a private one. */
export function nextLocation(from: URL, location: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new NetworkError(`${redactUrl(from)}: the registry sent an invalid Location`, { code: ErrorCode.registry });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new NetworkError(`${redactUrl(from)}: the registry sent a Location with scheme ${next.protocol}`, { code: ErrorCode.registry });
  }
  if (next.host !== from.host && isPrivateHost(next.hostname) && !isPrivateHost(from.hostname)) {
    throw new NetworkError(`${redactUrl(from)}: refusing to follow the registry to private address ${next.host}`, {
      code: ErrorCode.registry,
      hint: 'a registry on a public address pointed ferry at a private or loopback one; this is refused to protect the local network',
    });
  }
  return next;
}
