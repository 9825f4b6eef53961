import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A tiny node:http server for client tests: a redirect target, a registry that
// answers one crafted error, a fault-injecting proxy. Test fixtures, not
// stand-ins for docker-registry: the client's behaviour against the real
// registry is tested against the real registry.

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface FixtureServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  stop(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export async function startFixture(handler: Handler, host = '127.0.0.1'): Promise<FixtureServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    Promise.resolve(handler(req, res)).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    host: `${host}:${port}`,
    port,
    seen,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export async function drainRequest(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

/** Passes `req` (its path and query from `url`) on to `upstream` and its answer back; resolves once answered. */
export async function forwardTo(upstream: URL, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: `${url.pathname}${url.search}`, headers: req.headers }, (ures) => {
    res.writeHead(ures.statusCode ?? 502, ures.headers);
    ures.pipe(res);
  });
  up.on('error', () => res.socket?.destroy());
  req.pipe(up);
  await new Promise<void>((resolve) => res.on('close', resolve));
}
