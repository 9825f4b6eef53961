import { AuthError, UsageError, normalizeRegistry } from '../../core/index.js';
import { createRegistryClient, removeLogin, saveLogin, type RegistryClientInit } from '../../registry/client/index.js';

// `ferry login REGISTRY` / `ferry logout REGISTRY`: the credentials are checked
// against the registry first (as docker login does: an authenticated GET /v2/,
// through the token service when there is one), then written where docker,
// podman, skopeo and ferry all look. The host is lowercased: ACR answers only to
// its lowercase login server, and auth files are keyed by the exact string.

export interface LoginInput {
  /** HOST[:PORT] as typed. */
  readonly registry: string;
  readonly username: string;
  readonly password: string;
  /** Client settings (TLS, plain HTTP, retries) from the registry flags; credentials are ours. */
  readonly client: Omit<RegistryClientInit, 'registry' | 'credentials' | 'authfile'>;
  readonly authfile?: string;
  readonly env: Record<string, string | undefined>;
  readonly homeDir?: string;
  readonly signal?: AbortSignal;
}

export interface LoginResult {
  registry: string;
  /** Set when the host was typed with capitals (stored lowercased). */
  typed?: string;
  /** The auth scheme the registry asked for: none means it takes anyone, and the login was stored anyway. */
  scheme: 'none' | 'basic' | 'bearer';
  authfile: string;
  helper?: string;
  replaced: string[];
}

/** `https://Host:5000/` → `host:5000`, with the spelling kept when it differed. */
export function registryHost(typed: string): { registry: string; typed?: string } {
  const bare = typed.trim().replace(/^https?:\/\//i, '').replace(/\/.*$/, '');
  if (!bare) throw new UsageError('name the registry: ferry login HOST[:PORT]');
  const registry = normalizeRegistry(bare);
  return bare === registry ? { registry } : { registry, typed: bare };
}

export async function login(input: LoginInput): Promise<LoginResult> {
  const { registry, typed } = registryHost(input.registry);
  if (!input.username) throw new UsageError('--username is required');
  if (!input.password) throw new UsageError('the password is empty', { hint: 'give it on standard input: … | ferry login HOST --username USER --password-stdin' });
  const client = createRegistryClient({ ...input.client, registry, credentials: { username: input.username, password: input.password }, env: input.env, ...(input.signal ? { signal: input.signal } : {}) });
  let scheme: LoginResult['scheme'];
  try {
    scheme = await client.checkCredentials(input.signal);
  } catch (e) {
    if (e instanceof AuthError) throw new AuthError(`${registry} refused the login of ${input.username}: ${e.message}`, { code: e.code, hint: 'check the user name and password (ACR: the admin user, a token name and password, or a service principal); nothing was stored', cause: e });
    throw e;
  } finally {
    await client.close();
  }
  const written = await saveLogin(
    { registry, env: input.env, ...(input.authfile ? { authfile: input.authfile } : {}), ...(input.homeDir ? { homeDir: input.homeDir } : {}) },
    { username: input.username, password: input.password },
  );
  return { registry, ...(typed ? { typed } : {}), scheme, authfile: written.path, ...(written.helper ? { helper: written.helper } : {}), replaced: [...written.replaced] };
}

export async function logout(input: Pick<LoginInput, 'registry' | 'authfile' | 'env' | 'homeDir'>): Promise<{ registry: string; authfile: string; removed: boolean; helper?: string }> {
  const { registry } = registryHost(input.registry);
  const done = await removeLogin({ registry, env: input.env, ...(input.authfile ? { authfile: input.authfile } : {}), ...(input.homeDir ? { homeDir: input.homeDir } : {}) });
  return { registry, authfile: done.path, removed: done.removed, ...(done.helper ? { helper: done.helper } : {}) };
}
