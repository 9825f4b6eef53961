import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../core/index.js';
import { credentialsFromHelper } from './credential-helper.js';
import { lookupAuthFile, readAuthFile, type AuthFile } from './auth-file.js';

// Where credentials come from, in order of precedence: --creds, --authfile,
// Docker config.json ($DOCKER_CONFIG, ~/.docker), podman auth.json
// ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers, ~/.config/containers). In a
// file: credHelpers[host], then credsStore, then auths[host]. First hit wins.

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken`; ACR `az acr login --expose-token`), traded at the realm. */
  identityToken?: string;
  /** A bearer token to send as is (`registrytoken`). */
  registryToken?: string;
}

export interface CredentialSources {
  credentials?: Credentials;
  authfile?: string;
  env: Record<string, string | undefined>;
  homeDir?: string;
}

/** `--creds USER:PASS` → Credentials (the password may contain ':'). */
export function parseCreds(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UsageError('--creds must be USER:PASSWORD', { hint: 'for a token, use --creds "<token>:TOKEN" or an --authfile with identitytoken' });
  const username = text.slice(0, colon);
  const password = text.slice(colon + 1);
  return username === '<token>' ? { identityToken: password } : { username, password };
}

/** The auth files searched when no --authfile is given, in order. */
export function defaultAuthFiles(env: Record<string, string | undefined>, home = homedir()): string[] {
  const files = [join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json')];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'containers', 'auth.json'));
  return files;
}

/** The key Docker uses for a registry in helpers and auth files (Docker Hub's is historical). */
export function serverUrlFor(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

async function fromFile(file: AuthFile, registry: string, env: Record<string, string | undefined>): Promise<Credentials | undefined> {
  const helper = file.credHelpers[registry] ?? (registry === 'docker.io' ? file.credHelpers['index.docker.io'] : undefined);
  if (helper) return credentialsFromHelper(helper, serverUrlFor(registry), env);
  if (file.credsStore) {
    const found = await credentialsFromHelper(file.credsStore, serverUrlFor(registry), env);
    if (found) return found;
  }
  return lookupAuthFile(file, registry);
}

/** Credentials for `registry` (normalised host[:port]), or undefined for anonymous access. */
export async function resolveCredentials(registry: string, src: CredentialSources): Promise<Credentials | undefined> {
  if (src.credentials) return src.credentials;
  if (src.authfile) {
    const file = await readAuthFile(src.authfile, true);
    return file ? fromFile(file, registry, src.env) : undefined;
  }
  for (const path of defaultAuthFiles(src.env, src.homeDir)) {
    const file = await readAuthFile(path, false);
    if (!file) continue;
    const found = await fromFile(file, registry, src.env);
    if (found) return found;
  }
  return undefined;
}
