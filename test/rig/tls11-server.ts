import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCa } from './ca.js';

// An HTTPS "registry" that offers only TLS 1.0/1.1, for tests that ferry refuses
// it (the far side must speak TLS 1.2+). OpenSSL 3 disables TLS < 1.2 at its
// default security level, so the ciphers line lowers it to 0 for this server only.

export interface Tls11Server {
  readonly url: string;
  readonly host: string;
  /** Requests that completed a handshake and reached the HTTP handler. */
  requests(): number;
  stop(): Promise<void>;
}

export async function startTls11Server(ca: TestCa): Promise<Tls11Server> {
  let requests = 0;
  const server = createServer(
    {
      cert: ca.serverCertPem,
      key: ca.serverKeyPem,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    },
    (req, res) => {
      requests += 1;
      const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
      res.writeHead(path === '/v2/' ? 200 : 404, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end('{}');
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: () => requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
