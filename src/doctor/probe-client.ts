import { createMemoryTraceSink, createRegistryClient, type Credentials, type RegistryClient, type RetryHook, type TraceRecord, type TraceSink } from '../registry/client/index.js';
import type { Target } from './target.js';

// The doctor's client: a RegistryClient made like any other (createRegistryClient:
// the agent with its TLS floor and trust, retries, auth, redirects), with an
// in-memory trace beside the user's --trace. The checks send raw requests
// through it (client.send) and read every exchange back from the trace — that is
// how the doctor sees redirect hops and which headers went where, exactly as a
// transfer would.

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
  /** Each retry, as every client reports them (`--debug`). */
  readonly onRetry?: RetryHook;
  readonly signal?: AbortSignal;
}

export interface Probe {
  readonly target: Target;
  readonly client: RegistryClient;
  /** Every exchange so far, in order (redacted, as in --trace). */
  readonly records: readonly TraceRecord[];
  close(): Promise<void>;
}

/** Builds the probe; throws UsageError for an unreadable --ca-cert (credential problems surface in the auth check). */
export function createProbe(target: Target, opts: ProbeOptions): Probe {
  const memory = createMemoryTraceSink();
  const outer = opts.trace;
  const trace: TraceSink = outer ? { write: (r) => (memory.write(r), outer.write(r)) } : memory;
  const client = createRegistryClient({
    registry: target.registry,
    plainHttp: opts.plainHttp,
    forcePlainHttp: opts.forcePlainHttp === true,
    tlsVerify: opts.tlsVerify,
    ...(opts.caCert ? { caCert: opts.caCert } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.authfile ? { authfile: opts.authfile } : {}),
    env: opts.env,
    ...(opts.homeDir ? { homeDir: opts.homeDir } : {}),
    retries: opts.retries,
    // A diagnosis should answer quickly: no Retry-After of minutes.
    maxRetryDelayMs: 5_000,
    timeouts: { connect: opts.timeoutMs, headers: Math.max(30_000, opts.timeoutMs), bodyIdle: Math.max(30_000, opts.timeoutMs) },
    trace,
    ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { target, client, records: memory.records, close: () => client.close() };
}
