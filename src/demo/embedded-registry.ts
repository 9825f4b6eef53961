import { createRegistryServer, type RegistryServer } from '../registry/server/index.js';
import { openStore } from '../store/index.js';

// One embedded registry for the demo: `ferry serve`'s engine on its own fresh
// store, on 127.0.0.1 and a free port, no users (loopback only). close()
// stops the server and closes the store it owns.

export interface EmbeddedRegistry {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, as image references name it. */
  readonly address: string;
  readonly storeDir: string;
  close(): Promise<void>;
}

export async function startEmbeddedRegistry(storeDir: string, onError?: (error: unknown, where: string) => void): Promise<EmbeddedRegistry> {
  const store = await openStore(storeDir, { create: true });
  let server: RegistryServer;
  try {
    server = await createRegistryServer({ store, ownsStore: true, host: '127.0.0.1', port: 0, shutdownTimeoutMs: 5_000, ...(onError ? { onError } : {}) });
  } catch (err) {
    await store.close();
    throw err;
  }
  return { url: server.url, address: server.address, storeDir, close: () => server.close() };
}
