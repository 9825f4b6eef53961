import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { rootCertificates } from 'node:tls';
import type { Agent } from 'undici';
import { UsageError } from '../../../core/index.js';
import { DEFAULTS, type RegistryClientOptions } from '../options.js';

// One keep-alive undici Agent per RegistryClient (one per registry host). The
// Agent keeps a pool per origin, so redirect targets (blob storage behind ACR)
// reuse their connections too. TLS floor is 1.2 (Azure Stack Hub ACR offers only 1.2).

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

type AgentClass = typeof import('undici').Agent;
let agentClass: AgentClass | undefined;

/**
 * undici's Agent without undici's index: the index loads all of undici (fetch, WebSocket,
 * caches, mocks: 111 modules, ~0.2 s CPU at every command's start-up) where a client needs
 * the Agent (24) and the request API, which the index attaches to Dispatcher's prototype as
 * done here. Same module instances as `import 'undici'`, so the two can be mixed.
 */
function undiciAgent(): AgentClass {
  if (agentClass) return agentClass;
  const require = createRequire(import.meta.url);
  const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
  if (!('request' in dispatcher.prototype)) Object.assign(dispatcher.prototype, require('undici/lib/api/index.js') as object);
  agentClass = require('undici/lib/dispatcher/agent.js') as AgentClass;
  return agentClass;
}

export function createAgent(opts: RegistryClientOptions): Agent {
  const Agent = undiciAgent();
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
