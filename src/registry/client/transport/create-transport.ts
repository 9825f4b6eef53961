import type { Agent } from 'undici';
import { normalizeRegistry } from '../../../core/index.js';
import { resolveCredentials } from '../auth/credentials.js';
import { DEFAULTS, registryBaseUrl, retryPolicyOf, type RegistryClientOptions } from '../options.js';
import { createAgent } from './agent.js';
import { HttpClient } from './http-client.js';

// The one place a registry transport is assembled (ggcr transport.NewWithContext,
// used by both remote and crane): the agent (TLS floor, trust, timeouts), the
// auth state with its credentials, the retry policy and its report, the trace.
// RegistryClient is built on it, and everything else (ferry doctor included)
// is built on RegistryClient.

export interface Transport {
  readonly http: HttpClient;
  /** The keep-alive connections, for close(). */
  readonly agent: Agent;
}

/** `closed`: aborted when the owner closes, so retries waiting for their turn give up at once. */
export function createTransport(opts: RegistryClientOptions, closed: AbortSignal): Transport {
  const registry = normalizeRegistry(opts.registry);
  const agent = createAgent(opts);
  const env = opts.env ?? process.env;
  const http = new HttpClient({
    base: registryBaseUrl(opts),
    registry,
    agent,
    credentials: () =>
      resolveCredentials(registry, {
        env,
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        ...(opts.authfile ? { authfile: opts.authfile } : {}),
        ...(opts.homeDir ? { homeDir: opts.homeDir } : {}),
      }),
    retry: { policy: retryPolicyOf(opts), closed, ...(opts.onRetry ? { onRetry: opts.onRetry } : {}) },
    userAgent: opts.userAgent ?? DEFAULTS.userAgent,
    ...(opts.trace ? { trace: opts.trace } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { http, agent };
}
