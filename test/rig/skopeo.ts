import { runOk, type RunResult } from './peers.js';
import type { Registry } from './registry.js';

// skopeo against a rig registry: the transport flags (plain http, the rig CA,
// credentials — for a token registry, the issuer's user) in one place.

type RegistryAccess = Pick<Registry, 'scheme' | 'certDir' | 'username' | 'password' | 'tokenServer'>;

function credentials(registry: RegistryAccess): string | undefined {
  const user = registry.username ?? registry.tokenServer?.username;
  const pass = registry.password ?? registry.tokenServer?.password;
  return user === undefined ? undefined : `${user}:${pass ?? ''}`;
}

/** Flags for one side of a skopeo command: side 'src' | 'dest' (copy), or '' (inspect). */
export function skopeoRegistryFlags(registry: RegistryAccess, side: 'src' | 'dest' | ''): string[] {
  const prefix = side === '' ? '--' : `--${side}-`;
  const flags: string[] = [];
  if (registry.scheme === 'http') flags.push(`${prefix}tls-verify=false`);
  else if (registry.certDir) flags.push(`${prefix}cert-dir`, registry.certDir);
  const creds = credentials(registry);
  if (creds) flags.push(`${prefix}creds`, creds);
  return flags;
}

/** `skopeo copy --all --preserve-digests`: the registry must end up with exactly our bytes. */
export function skopeoCopyTo(registry: RegistryAccess, source: string, destReference: string): Promise<RunResult> {
  return runOk('skopeo', [
    '--insecure-policy',
    'copy',
    '--all',
    '--preserve-digests',
    ...skopeoRegistryFlags(registry, 'dest'),
    source,
    `docker://${destReference}`,
  ]);
}

/** `skopeo inspect --raw`: the manifest bytes exactly as the registry serves them. */
export async function skopeoInspectRaw(registry: RegistryAccess & Pick<Registry, 'host'>, reference: string): Promise<string> {
  const args = ['inspect', '--raw', ...skopeoRegistryFlags(registry, ''), `docker://${registry.host}/${reference}`];
  return (await runOk('skopeo', args)).stdout;
}
