import { request } from 'node:http';
import { startFixture, type FixtureServer } from '../../client/fixture-server.js';

// A proxy in front of a real docker-registry that, while `holding` names a blob,
// sends that blob's every byte and then keeps the response open: it re-sends the
// body chunked and never writes the last chunk. The client has the whole blob and
// waits for the end of a body that never comes, so a test can kill it at exactly
// the point where the store's partial holds the whole blob and nothing has been
// committed. No peer here can hold a response open like that.

export interface ProxiedRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

export interface HoldingProxy extends FixtureServer {
  /** Digests whose blob GETs are held open after their last byte. */
  readonly holding: Set<string>;
  readonly requests: ProxiedRequest[];
}

export async function startHoldingProxy(upstream: URL): Promise<HoldingProxy> {
  const holding = new Set<string>();
  const requests: ProxiedRequest[] = [];
  const server = await startFixture(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry: ProxiedRequest = { method: req.method ?? '', path, range: req.headers.range, status: 0 };
    requests.push(entry);
    const hold = req.method === 'GET' && [...holding].some((d) => path.endsWith(`/blobs/${d}`));
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      entry.status = ures.statusCode ?? 502;
      const headers = { ...ures.headers };
      if (hold && entry.status === 200) delete headers['content-length'];
      res.writeHead(entry.status, headers);
      const declared = req.method === 'HEAD' ? 0 : Number(ures.headers['content-length'] ?? 0);
      let sent = 0;
      ures.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        res.write(chunk);
      });
      let ended = false;
      ures.on('end', () => {
        ended = true;
        if (hold && entry.status === 200) return;
        if (sent < declared) res.socket?.destroy();
        else res.end();
      });
      // A body cut short of its Content-Length (distribution's 416 declares the blob's length
      // and sends one line, then closes): the client sees the connection close, as without us.
      ures.on('close', () => {
        if (!ended) res.socket?.destroy();
      });
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
    await new Promise<void>((resolve) => res.on('close', resolve));
  });
  return Object.assign(server, { holding, requests });
}
