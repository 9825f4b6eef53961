import { normalizeRegistry, UsageError } from '../../core/index.js';
import type { Clock } from '../../core/clock.js';
import { isLoopbackHost } from '../../core/loopback.js';
import type { Credentials } from './auth/credentials.js';
import { DEFAULT_RETRY_POLICY, type RetryHook, type RetryPolicy } from './retry/index.js';
import type { TraceSink } from './transport/trace.js';

// Everything a RegistryClient is built from. The CLI maps its registry flags
// (design §5) onto these one to one; tests pass env/home to stay hermetic.

export interface Timeouts {
  /** TCP + TLS connect, ms (default 30 s). */
  connect?: number;
  /** From request sent to response headers, ms (default 120 s: a registry may hash a big blob before answering). */
  headers?: number;
  /** Longest silence while a body streams, ms (default 60 s). */
  bodyIdle?: number;
}

export interface RegistryClientOptions {
  /** host[:port] as in a core Reference (`docker.io` talks to registry-1.docker.io). */
  registry: string;
  /** `--creds USER:PASS`, already split. Wins over every file. */
  credentials?: Credentials;
  /** `--authfile FILE`: a Docker config.json or podman auth.json. */
  authfile?: string;
  /** http:// instead of https:// — only for loopback unless forcePlainHttp. */
  plainHttp?: boolean;
  forcePlainHttp?: boolean;
  /** false = do not verify the server certificate (`--tls-verify=false`). */
  tlsVerify?: boolean;
  /** PEM file of an extra CA to trust (`--ca-cert`). */
  caCert?: string;
  /** Retries after the first try, at every level that retries (default 4; `--retries`). */
  retries?: number;
  userAgent?: string;
  trace?: TraceSink;
  /** Now, for bearer token lifetimes; default the system clock (tests move a manual one). */
  clock?: Clock;
  /** Chunk size for chunked uploads (default 16 MiB). */
  chunkSize?: number;
  /** Blobs up to this size go up in one PUT; larger ones in chunks (default 64 MiB). */
  monolithicThreshold?: number;
  timeouts?: Timeouts;
  /** Base of the exponential backoff, ms (default 250). */
  retryBaseDelayMs?: number;
  /** Longest wait honoured from Retry-After or backoff, ms (default 30 s). */
  maxRetryDelayMs?: number;
  /** Called before each retry, whatever retries (a request, a chunk): the one place retries are reported. */
  onRetry?: RetryHook;
  /** Aborts every request of this client. */
  signal?: AbortSignal;
  /** Environment for credential discovery (default process.env). */
  env?: Record<string, string | undefined>;
  /** Home directory for ~/.docker/config.json (default os.homedir()). */
  homeDir?: string;
}

export const DEFAULTS = {
  retries: DEFAULT_RETRY_POLICY.retries,
  chunkSize: 16 * 1024 * 1024,
  monolithicThreshold: 64 * 1024 * 1024,
  connectTimeout: 30_000,
  headersTimeout: 120_000,
  bodyIdleTimeout: 60_000,
  retryBaseDelayMs: DEFAULT_RETRY_POLICY.baseDelayMs,
  maxRetryDelayMs: DEFAULT_RETRY_POLICY.maxDelayMs,
  userAgent: 'ferry/0.1',
} as const;

export { isLoopbackHost } from '../../core/loopback.js';

/** The retry policy the options say. */
export function retryPolicyOf(opts: Pick<RegistryClientOptions, 'retries' | 'retryBaseDelayMs' | 'maxRetryDelayMs'>): RetryPolicy {
  return {
    retries: opts.retries ?? DEFAULTS.retries,
    baseDelayMs: opts.retryBaseDelayMs ?? DEFAULTS.retryBaseDelayMs,
    maxDelayMs: opts.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
  };
}

/** The base URL of the API for a registry host, after the plain-HTTP policy. */
export function registryBaseUrl(opts: Pick<RegistryClientOptions, 'registry' | 'plainHttp' | 'forcePlainHttp'>): URL {
  const registry = normalizeRegistry(opts.registry);
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  if (opts.plainHttp) {
    const hostname = new URL(`http://${host}`).hostname;
    if (!isLoopbackHost(hostname) && !opts.forcePlainHttp) {
      throw new UsageError(`refusing plain HTTP to ${host}: credentials and images would cross the network unencrypted`, {
        hint: 'plain HTTP is allowed for 127.0.0.1, ::1 and localhost; use TLS (--ca-cert for a private CA) for anything else',
      });
    }
  }
  return new URL(`${opts.plainHttp ? 'http' : 'https'}://${host}`);
}
