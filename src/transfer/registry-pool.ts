import { createRegistryClient, type RegistryClient, type RegistryClientInit } from '../registry/client/index.js';

/** Settings that differ for one host (ferry copy's --src-* / --dest-* flags). */
export type HostOverrides = ReadonlyMap<string, Partial<Omit<RegistryClientInit, 'registry'>>>;

/**
 * One RegistryClient per registry host, made on first use with the same flags
 * (one keep-alive agent and one token cache per host), or with the host's own
 * overrides where given; closed together.
 */
export class RegistryPool {
  private readonly clients = new Map<string, RegistryClient>();
  private readonly base: Omit<RegistryClientInit, 'registry'>;
  private readonly perHost: HostOverrides;

  constructor(base: Omit<RegistryClientInit, 'registry'>, perHost: HostOverrides = new Map()) {
    this.base = base;
    this.perHost = perHost;
  }

  client(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (!client) {
      client = createRegistryClient({ ...this.base, ...this.perHost.get(registry), registry });
      this.clients.set(registry, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
