import { DOCKER_HUB } from '../core/reference.js';
import type { MirrorEndpoint } from './mirror-endpoint.js';

// containerd's registry host configuration (docs/hosts.md in containerd): one
// `certs.d/<upstream>/hosts.toml` per upstream registry. `server` is the upstream
// itself (tried last); each `[host."…"]` is tried first, in file order. A path in
// the host URL is the API root only with `override_path = true`, which is how a
// mirror under a prefix (`site/v2/mirror/<upstream path>`) is expressed.

export interface HostsTomlInput {
  /** Normalised upstream registry host: docker.io, mcr.microsoft.com, 127.0.0.1:5000. */
  upstream: string;
  mirror: MirrorEndpoint;
  /** The CA file as containerd should read it: relative paths are resolved against the host directory. */
  ca?: string;
  skipVerify?: boolean;
}

/** The upstream's own endpoint: Docker Hub's registry is not at docker.io. */
export function upstreamServer(upstream: string): string {
  return upstream === DOCKER_HUB ? 'https://registry-1.docker.io' : `https://${upstream}`;
}

/** The `[host."…"]` key for a mirror, and whether it needs override_path (a prefix). */
export function mirrorHostUrl(mirror: MirrorEndpoint): { url: string; overridePath: boolean } {
  const base = `${mirror.scheme}://${mirror.host}`;
  if (!mirror.prefix) return { url: base, overridePath: false };
  // containerd appends the repository path to this URL as is: it must be the full API root.
  return { url: `${base}/v2/${mirror.prefix}`, overridePath: true };
}

/** TOML basic string. */
export function tomlString(value: string): string {
  const escaped = value.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '"') return '\\"';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

export function renderHostsToml(input: HostsTomlInput): string {
  const { url, overridePath } = mirrorHostUrl(input.mirror);
  const lines = [
    `# ${input.upstream}: written by ferry k8s mirror-config.`,
    `# Pulls of ${input.upstream}/… go to the mirror first; the upstream server is the fallback.`,
    `server = ${tomlString(upstreamServer(input.upstream))}`,
    '',
    `[host.${tomlString(url)}]`,
    '  capabilities = ["pull", "resolve"]',
  ];
  if (overridePath) lines.push('  override_path = true');
  if (input.ca !== undefined) lines.push(`  ca = ${tomlString(input.ca)}`);
  if (input.skipVerify) lines.push('  skip_verify = true');
  return `${lines.join('\n')}\n`;
}

/** The certs.d directory name containerd looks up for an upstream host (`host:port` kept as is). */
export function hostsDirName(upstream: string): string {
  return upstream;
}
