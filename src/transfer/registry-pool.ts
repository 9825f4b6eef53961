import { createRegistryClient, type RegistryClient, type RegistryClientInit } from '../registry/client/index.js';

/**
 * One RegistryClient per registry host, made on first use with the same flags
 * (one keep-alive agent and one token cache per host); closed together.
 */
export class RegistryPool {
  private readonly clients = new Map<string, RegistryClient>();
  private readonly base: Omit<RegistryClientInit, 'registry'>;

  constructor(base: Omit<RegistryClientInit, 'registry'>) {
    this.base = base;
  }

  client(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (!client) {
      client = createRegistryClient({ ...this.base, registry });
      this.clients.set(registry, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
