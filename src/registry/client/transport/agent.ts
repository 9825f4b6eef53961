import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Agent } from 'undici';
import UndiciAgent from 'undici/lib/dispatcher/agent.js';
import UndiciDispatcher from 'undici/lib/dispatcher/dispatcher.js';
import undiciApi from 'undici/lib/api/index.js';
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

/**
 * undici's Agent without undici's index: the index loads all of undici (fetch, WebSocket,
 * caches, mocks: 111 modules, ~0.2 s CPU at every command's start-up) where a client needs
 * the Agent (24) and the request API, which the index attaches to Dispatcher's prototype as
 * done here. Same module instances as `import 'undici'`, so the two can be mixed. Imported,
 * not required at run time: the CLI bundle then holds these modules in the registry client's
 * chunk, which only commands that talk to registries load, and no longer resolves and reads
 * node_modules' own files at each of them (50-78 ms to load those modules unbundled here).
 */
if (!('request' in UndiciDispatcher.prototype)) Object.assign(UndiciDispatcher.prototype, undiciApi);

export function createAgent(opts: RegistryClientOptions): Agent {
  const connect: { minVersion: 'TLSv1.2'; rejectUnauthorized: boolean; timeout: number; ca?: string[] } = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: opts.tlsVerify !== false,
    timeout: opts.timeouts?.connect ?? DEFAULTS.connectTimeout,
  };
  if (opts.caCert) connect.ca = extraCa(opts.caCert);
  return new UndiciAgent({
    connect,
    headersTimeout: opts.timeouts?.headers ?? DEFAULTS.headersTimeout,
    bodyTimeout: opts.timeouts?.bodyIdle ?? DEFAULTS.bodyIdleTimeout,
    keepAliveTimeout: 30_000,
    connections: 16,
  });
}
