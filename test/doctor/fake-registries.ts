import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// Tiny node:http stand-ins for registry behaviours a stock docker-registry cannot
// show: blob GETs redirected to storage on another origin (ACR → Azure storage),
// a skewed clock, a locked repository, a host that is no registry at all.

export interface HttpFixture {
  readonly host: string;
  readonly origin: string;
  stop(): Promise<void>;
}

export async function startHttp(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<HttpFixture> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const API = { 'docker-distribution-api-version': 'registry/2.0' };

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...API, ...headers });
  res.end(text);
}

export interface RedirectingRegistry extends HttpFixture {
  readonly creds: { readonly username: string; readonly password: string };
  readonly storage: HttpFixture;
  readonly signature: string;
  /** The Authorization header of each request the storage origin received (undefined = none). */
  storageAuthorizations(): (string | undefined)[];
  /** How many blob GETs reached the registry with the right Authorization. */
  authorizedBlobGets(): number;
}

/** Basic auth; `app:1.0` (its only tag) is an OCI image whose config GET answers 307 to a signed URL on another origin. */
export async function startRedirectingRegistry(): Promise<RedirectingRegistry> {
  const creds = { username: 'doctor', password: 'redirect-secret' };
  const basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [],
  });
  const signature = 'SIGNATURE-SECRET-4242';
  const seen: (string | undefined)[] = [];
  let authorized = 0;
  const storage = await startHttp((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-length': String(config.length) });
    res.end(config);
  });
  const registry = await startHttp((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.headers.authorization !== basic) return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': 'Basic realm="doctor-fixture"' });
    if (path === '/v2/') return json(res, 200, {});
    if (path === '/v2/app/tags/list') return json(res, 200, { name: 'app', tags: ['1.0'] });
    if (path === '/v2/app/manifests/1.0') {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(Buffer.byteLength(manifest)), ...API });
      return void res.end(manifest);
    }
    if (path === `/v2/app/blobs/${configDigest}`) {
      authorized += 1;
      res.writeHead(307, { location: `${storage.origin}/container/${configDigest.slice(7)}?sv=2021&se=2030-01-01&sig=${signature}`, ...API });
      return void res.end();
    }
    json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'no such repository' }] });
  });
  return {
    ...registry,
    creds,
    storage,
    signature,
    storageAuthorizations: () => [...seen],
    authorizedBlobGets: () => authorized,
    stop: async () => {
      await registry.stop();
      await storage.stop();
    },
  };
}

/** An open registry whose clock is `offsetMs` away from ours (the Date header says so). */
export function startSkewedRegistry(offsetMs: number): Promise<HttpFixture> {
  return startHttp((req, res) => {
    const date = new Date(Date.now() + offsetMs).toUTCString();
    if (req.url === '/v2/') return json(res, 200, {}, { date });
    json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'no such repository' }] }, { date });
  });
}

/** An open registry that refuses uploads the way ACR refuses a locked repository. */
export function startLockedRegistry(): Promise<HttpFixture> {
  return startHttp((req, res) => {
    if (req.url === '/v2/') return json(res, 200, {});
    if (req.method === 'POST' && req.url?.endsWith('/blobs/uploads/')) {
      return json(res, 403, { errors: [{ code: 'DENIED', message: 'operation not allowed: the repository is locked' }] });
    }
    json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'no such repository' }] });
  });
}

/** A web server, not a registry: /v2/ is an HTML 404 and no API version header. */
export function startWebServer(): Promise<HttpFixture> {
  return startHttp((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<html><body>Not Found</body></html>');
  });
}

/** Answers /v2/ with 200 but without Docker-Distribution-API-Version (a proxy that strips headers). */
export function startHeaderlessRegistry(): Promise<HttpFixture> {
  return startHttp((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
}
