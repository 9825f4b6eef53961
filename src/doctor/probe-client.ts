import type { Agent } from 'undici';
import { Authenticator } from '../registry/client/auth/authenticator.js';
import { resolveCredentials, type Credentials } from '../registry/client/auth/credentials.js';
import { ManifestCache } from '../registry/client/manifest-cache.js';
import { DEFAULTS } from '../registry/client/options.js';
import type { RepoContext } from '../registry/client/repo-context.js';
import { createAgent } from '../registry/client/transport/agent.js';
import { HttpClient } from '../registry/client/transport/http-client.js';
import { createMemoryTraceSink, type TraceRecord, type TraceSink } from '../registry/client/transport/trace.js';
import type { Target } from './target.js';

// The registry client's own transport stack (agent with its TLS floor and
// trust, retries, auth, redirects), assembled the way RegistryClient assembles
// it, but with the pieces in reach: the doctor sends raw requests through it
// and reads every exchange back from an in-memory trace — that is how it sees
// redirect hops and which headers went where, exactly as a transfer would.

export interface ProbeOptions {
  readonly credentials?: Credentials;
  readonly authfile?: string;
  readonly tlsVerify: boolean;
  readonly caCert?: string;
  readonly plainHttp: boolean;
  readonly forcePlainHttp?: boolean;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly env: Record<string, string | undefined>;
  readonly homeDir?: string;
  /** Also forward every exchange here (`--trace FILE`). */
  readonly trace?: TraceSink;
  readonly signal?: AbortSignal;
}

export interface Probe {
  readonly target: Target;
  readonly http: HttpClient;
  readonly auth: Authenticator;
  /** Every exchange so far, in order (redacted, as in --trace). */
  readonly records: readonly TraceRecord[];
  /** The credentials ferry would use for this registry (resolved once). */
  credentials(): Promise<Credentials | undefined>;
  repo(name: string): RepoContext;
  close(): Promise<void>;
}

/** Builds the probe; throws UsageError for an unreadable --ca-cert (credential problems surface in the auth check). */
export function createProbe(target: Target, opts: ProbeOptions): Probe {
  const agent: Agent = createAgent({
    registry: target.registry,
    tlsVerify: opts.tlsVerify,
    ...(opts.caCert ? { caCert: opts.caCert } : {}),
    timeouts: { connect: opts.timeoutMs, headers: Math.max(30_000, opts.timeoutMs), bodyIdle: Math.max(30_000, opts.timeoutMs) },
  });
  const memory = createMemoryTraceSink();
  const outer = opts.trace;
  const trace: TraceSink = outer ? { write: (r) => (memory.write(r), outer.write(r)) } : memory;
  const http = new HttpClient({
    base: target.baseUrl,
    agent,
    retry: { policy: { retries: opts.retries, baseDelayMs: DEFAULTS.retryBaseDelayMs, maxDelayMs: 5_000 } },
    userAgent: DEFAULTS.userAgent,
    trace,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  let creds: Promise<Credentials | undefined> | undefined;
  const credentials = (): Promise<Credentials | undefined> => {
    creds ??= resolveCredentials(target.registry, {
      env: opts.env,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      ...(opts.authfile ? { authfile: opts.authfile } : {}),
      ...(opts.homeDir ? { homeDir: opts.homeDir } : {}),
    });
    return creds;
  };
  const auth = new Authenticator(credentials, (req) => http.request({ ...req, scopes: [], ok: [200], noAuth: true }));
  http.setAuthenticator(auth);
  const manifests = new ManifestCache();
  return {
    target,
    http,
    auth,
    records: memory.records,
    credentials,
    repo: (name) => ({ http, name, registry: target.registry, chunkSize: DEFAULTS.chunkSize, monolithicThreshold: DEFAULTS.monolithicThreshold, manifests }),
    close: () => agent.close(),
  };
}
