import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { digestHex, type Digest } from '../../src/core/digest.js';

// Stands in for the host of Windows foreign layers (the `urls` of a layer MCR
// lists but does not serve): GET/HEAD /layers/sha256/<hex>. It counts requests,
// in process (stats()) and over HTTP (GET /_stats) for tests in other workers.

export interface ForeignServerStats {
  readonly total: number;
  /** Requests per path (GET and HEAD), the stats path excluded. */
  readonly byPath: Readonly<Record<string, number>>;
}

export interface ForeignServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Serve `bytes` at /layers/sha256/<hex of digest>; returns that URL. */
  add(digest: Digest, bytes: Buffer): string;
  stats(): ForeignServerStats;
  stop(): Promise<void>;
}

export const FOREIGN_STATS_PATH = '/_stats';

export async function startForeignServer(): Promise<ForeignServer> {
  const blobs = new Map<string, Buffer>();
  const byPath: Record<string, number> = {};
  let total = 0;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === FOREIGN_STATS_PATH) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ total, byPath }));
      return;
    }
    total += 1;
    byPath[path] = (byPath[path] ?? 0) + 1;
    const blob = blobs.get(path);
    if (!blob || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(blob ? 405 : 404, { 'content-type': 'text/plain' });
      res.end(blob ? 'method not allowed\n' : 'not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) });
    res.end(req.method === 'HEAD' ? undefined : blob);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    add: (digest, bytes) => {
      const path = `/layers/sha256/${digestHex(digest)}`;
      blobs.set(path, bytes);
      return `${url}${path}`;
    },
    stats: () => ({ total, byPath: { ...byPath } }),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The `validation.manifests.urls.allow` pattern that admits exactly this server's URLs. */
export function foreignUrlPattern(baseUrl: string): string {
  return `^${baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`;
}

/** Read a foreign server's counters over HTTP (from a test worker other than the owner). */
export async function fetchForeignStats(baseUrl: string): Promise<ForeignServerStats> {
  const res = await fetch(`${baseUrl}${FOREIGN_STATS_PATH}`);
  return (await res.json()) as ForeignServerStats;
}
