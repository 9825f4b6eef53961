import type { Argv } from 'yargs';
import { CLIENT_DEFAULTS, parseCreds, createFileTraceSink, type RegistryClientInit, type TraceSink } from '../registry/client/index.js';
import { DEFAULT_CONCURRENCY } from '../core/limits.js';
import { UsageError } from '../core/errors.js';
import { RegistryPool, type HostOverrides } from '../transfer/registry-pool.js';
import type { GlobalArgs } from './command.js';
import { keepHttpParserBaseline } from './http-parser-tier.js';
import { retryIntoChannel } from './retry-log.js';

// The registry flags of design §5, shared by every command that touches a
// registry, and the one place that turns them into client options.

export interface RegistryArgs {
  creds?: string | undefined;
  authfile?: string | undefined;
  'plain-http': boolean;
  'tls-verify': boolean;
  'ca-cert'?: string | undefined;
  concurrency: number;
  retries: number;
}

export { REGISTRY_FLAG_KEYS } from './registry-flag-keys.js';

export function withRegistryFlags<T>(y: Argv<T>): Argv<T & RegistryArgs> {
  return y
    .option('creds', { type: 'string', describe: 'USER:PASSWORD for the registry (or "<token>:TOKEN")' })
    .option('authfile', { type: 'string', describe: 'Docker config.json or podman auth.json (default: the usual places; credential helpers honoured)' })
    .option('plain-http', { type: 'boolean', default: false, describe: 'talk HTTP, not HTTPS (loopback registries only)' })
    .option('tls-verify', { type: 'boolean', default: true, describe: 'verify the registry certificate (--tls-verify=false to skip)' })
    .option('ca-cert', { type: 'string', describe: 'PEM file of a CA to trust (a private registry CA)' })
    .option('concurrency', { type: 'number', default: DEFAULT_CONCURRENCY, describe: 'blobs moved at once (export fetches manifests and blobs up to 64 KiB in 2 more slots)' })
    .option('retries', {
      type: 'number',
      default: CLIENT_DEFAULTS.retries,
      describe: 'retries of a failed request or blob transfer (a registry that stays unreachable costs this budget once; --debug shows each retry)',
    }) as unknown as Argv<T & RegistryArgs>;
}

/** The client settings the registry flags say (credentials, TLS, retries: each one goes into the progress channel); the trace sink is the caller's. */
export function clientOptionsFrom(args: RegistryArgs & Partial<Pick<GlobalArgs, 'debug'>>): Omit<RegistryClientInit, 'registry' | 'trace' | 'signal'> {
  if (!Number.isInteger(args.retries) || args.retries < 0 || args.retries > 100) throw new UsageError('--retries must be a whole number from 0 to 100');
  keepHttpParserBaseline();
  return {
    onRetry: retryIntoChannel,
    ...(args.creds ? { credentials: parseCreds(args.creds) } : {}),
    ...(args.authfile ? { authfile: args.authfile } : {}),
    plainHttp: args['plain-http'],
    tlsVerify: args['tls-verify'],
    ...(args['ca-cert'] ? { caCert: args['ca-cert'] } : {}),
    retries: args.retries,
  };
}

/** A pool of registry clients built from the flags (and a host's own overrides); close it when done (it also closes the trace file). */
export function registryPool(args: RegistryArgs & GlobalArgs, signal?: AbortSignal, perHost?: HostOverrides): RegistryPool & { closeAll(): Promise<void> } {
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1 || args.concurrency > 64) throw new UsageError('--concurrency must be a whole number from 1 to 64');
  let trace: (TraceSink & { close(): Promise<void> }) | undefined;
  if (args.trace) trace = createFileTraceSink(args.trace);
  const base: Omit<RegistryClientInit, 'registry'> = {
    ...clientOptionsFrom(args),
    ...(trace ? { trace } : {}),
    ...(signal ? { signal } : {}),
  };
  const pool = new RegistryPool(base, perHost);
  return Object.assign(pool, {
    async closeAll() {
      await pool.close();
      await trace?.close();
    },
  });
}
