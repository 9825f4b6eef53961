import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { rootCertificates } from 'node:tls';
import type { Agent as AgentType, Dispatcher } from 'undici';
import { UsageError } from '../../../core/index.js';
import { DEFAULTS, type RegistryClientOptions } from '../options.js';

// One keep-alive undici Agent per RegistryClient (one per registry host). The
// Agent keeps a pool per origin, so redirect targets (blob storage behind ACR)
// reuse their connections too. TLS floor is 1.2 (Azure Stack Hub ACR offers only 1.2).

// Only the Agent and its request(), not all of undici: its index loads fetch, WebSocket, the cache and the
// mocks too, ~0.15 s of CPU at every start (220-260 ms against 70-75, three runs each, load 10-19) that
// no command uses. request() is put on the dispatcher as undici's own index puts it (undici is pinned:
// package.json names one version, so these paths hold).
const load = createRequire(import.meta.url);
const Agent = load('undici/lib/dispatcher/agent.js') as typeof AgentType;
const { prototype: dispatcher } = load('undici/lib/dispatcher/dispatcher.js') as { prototype: Partial<Pick<Dispatcher, 'request'>> };
dispatcher.request ??= load('undici/lib/api/api-request.js') as Dispatcher['request'];

function extraCa(path: string): string[] {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --ca-cert ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca-cert ${path} holds no PEM certificate`);
  // `ca` replaces Node's trust store, so keep the public roots: a redirect to
  // public blob storage must still verify while the registry uses a private CA.
  return [...rootCertificates, pem];
}

export function createAgent(opts: RegistryClientOptions): AgentType {
  const connect: { minVersion: 'TLSv1.2'; rejectUnauthorized: boolean; timeout: number; ca?: string[] } = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: opts.tlsVerify !== false,
    timeout: opts.timeouts?.connect ?? DEFAULTS.connectTimeout,
  };
  if (opts.caCert) connect.ca = extraCa(opts.caCert);
  return new Agent({
    connect,
    headersTimeout: opts.timeouts?.headers ?? DEFAULTS.headersTimeout,
    bodyTimeout: opts.timeouts?.bodyIdle ?? DEFAULTS.bodyIdleTimeout,
    keepAliveTimeout: 30_000,
    connections: 16,
  });
}
