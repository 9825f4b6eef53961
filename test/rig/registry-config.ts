import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';

// The docker-registry (distribution 2.8) config for one test registry. Debian's
// default config turns on htpasswd auth, so the rig always writes its own.

export interface RegistryConfigInput {
  readonly port: number;
  readonly storageDir: string;
  readonly tls?: { readonly certPath: string; readonly keyPath: string } | undefined;
  readonly htpasswdPath?: string | undefined;
  readonly token?: {
    readonly realm: string;
    readonly service: string;
    readonly issuer: string;
    readonly rootCertBundlePath: string;
  } | undefined;
  /** Regular expressions for `validation.manifests.urls.allow` (foreign layers). */
  readonly allowForeignUrls?: readonly string[] | undefined;
  /** `storage.delete.enabled` (default true). */
  readonly deleteEnabled?: boolean | undefined;
}

export function registryConfigYaml(input: RegistryConfigInput): string {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: input.storageDir },
      delete: { enabled: input.deleteEnabled ?? true },
      // The purger would scan upload dirs in the background; tests want a quiet registry.
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `127.0.0.1:${input.port}`,
      // Without a secret distribution logs a warning and makes one up per process.
      secret: randomBytes(16).toString('hex'),
      ...(input.tls ? { tls: { certificate: input.tls.certPath, key: input.tls.keyPath } } : {}),
    },
  };
  if (input.htpasswdPath) {
    config.auth = { htpasswd: { realm: 'ferry-test', path: input.htpasswdPath } };
  } else if (input.token) {
    config.auth = {
      token: {
        realm: input.token.realm,
        service: input.token.service,
        issuer: input.token.issuer,
        rootcertbundle: input.token.rootCertBundlePath,
      },
    };
  }
  if (input.allowForeignUrls && input.allowForeignUrls.length > 0) {
    config.validation = { manifests: { urls: { allow: [...input.allowForeignUrls] } } };
  }
  return stringify(config);
}
