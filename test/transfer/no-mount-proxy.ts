import { request } from 'node:http';
import { startFixture, type FixtureServer } from '../client/fixture-server.js';

// A registry that does not mount (Amazon ECR did not for years; the
// distribution spec allows it: "if the registry does not support
// cross-repository mounting … it SHOULD return a 202"): a pass-through proxy
// in front of a real docker-registry that drops `mount` and `from` from an
// upload POST, so the registry starts an ordinary upload and answers 202.
// Everything else, storage included, is the real registry's.

export interface NoMountProxy extends FixtureServer {
  /** Mount requests turned into plain uploads so far. */
  refused(): number;
}

export async function startNoMountProxy(upstream: URL): Promise<NoMountProxy> {
  let refused = 0;
  const server = await startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.searchParams.has('mount')) {
      url.searchParams.delete('mount');
      url.searchParams.delete('from');
      refused += 1;
    }
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: `${url.pathname}${url.search}`, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
    await new Promise<void>((resolve) => res.on('close', resolve));
  });
  return Object.assign(server, { refused: () => refused });
}
