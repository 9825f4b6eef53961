import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../core/clock.js';
import { NetworkError } from '../../core/index.js';
import { Gatekeeper } from './auth/gatekeeper.js';
import { handleTokenRequest, type TokenEndpointOptions } from './auth/token-endpoint.js';
import { UsersSource } from './auth/users-source.js';
import type { ServerDeps } from './context.js';
import { watchRequestBody } from './client-idle.js';
import { bannerLines, resolveOptions, type RegistryServerOptions } from './options.js';
import { watchRequest, type RequestLogState } from './request-log.js';
import { internalError, sendError, toServerError } from './respond.js';
import { routeApiRequest } from './router.js';
import { loadTls } from './tls.js';
import { UploadPins } from './upload-pins.js';
import { UploadSessions } from './upload-sessions.js';

// `ferry serve`'s engine: node:http or node:https, no framework. Builds the parts
// (users, gatekeeper, upload sessions, pins), listens, and answers every request
// through one try/catch so a bad request can never take the process down.

export interface RegistryServer {
  /** e.g. http://127.0.0.1:5000 */
  readonly url: string;
  /** host:port as clients write it in image references. */
  readonly address: string;
  readonly port: number;
  /** https? false means plain HTTP: say so loudly (banner). */
  readonly secure: boolean;
  /** No users file: everybody may do everything (loopback unless insecureOpen). */
  readonly open: boolean;
  /** Start-up lines for the CLI to print, warnings included. */
  readonly banner: readonly string[];
  /** Upload sessions in progress (for status output and tests). */
  uploadsInProgress(): number;
  /** Runs the janitor now (its timer does so periodically): expires idle upload sessions, drops expired upload pins. */
  sweep(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, aborts upload sessions, closes the store if it owns it. */
  close(): Promise<void>;
}

const TOKEN_PATH = '/token';

/**
 * Client went away mid-request: nothing to answer, nothing to report. The
 * connection is req.socket: res.socket is still null while the answer before it
 * on a keep-alive connection has not finished (Node queues this one meanwhile),
 * which happens over TLS when the client's next request comes in first.
 */
function isDisconnect(req: IncomingMessage, res: ServerResponse, err: unknown): boolean {
  if (res.destroyed || req.socket.destroyed) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

function safeHost(header: string | undefined): string | undefined {
  return header !== undefined && /^[A-Za-z0-9.\-:[\]]{1,260}$/.test(header) ? header : undefined;
}

export async function createRegistryServer(opts: RegistryServerOptions): Promise<RegistryServer> {
  const resolved = resolveOptions(opts);
  const { store } = opts;
  const tls = opts.tls ? await loadTls(opts.tls) : undefined;
  const scheme = tls ? 'https' : 'http';
  const clock = opts.clock ?? systemClock;
  const users = opts.users === undefined ? undefined : await UsersSource.open(opts.users, clock);
  const secret = opts.tokenSecret ? Buffer.from(opts.tokenSecret) : randomBytes(32);
  // The token endpoint as the client reached us (its Host header), unless a public URL is configured.
  const realm = (req: IncomingMessage): string => {
    const base = opts.publicUrl?.replace(/\/+$/, '') ?? `${scheme}://${safeHost(req.headers.host) ?? `${resolved.host}:${resolved.port}`}`;
    return `${base}${TOKEN_PATH}`;
  };
  const { anonymousPull, service, challenge } = resolved;
  const gatekeeper = new Gatekeeper({ users, anonymousPull, tokenSecret: secret, service, challenge, realm, clock });
  const sessions = new UploadSessions({
    open: (ref) => store.ingests.open(ref),
    ttlMs: resolved.uploadTtlMs,
    maxSessions: resolved.maxUploads,
    clock,
  });
  const pins = new UploadPins(store, resolved.uploadTtlMs, clock);
  if (!resolved.readOnly) pins.dropStale();
  const deps: ServerDeps = { store, gatekeeper, sessions, pins, readOnly: resolved.readOnly, idleTimeoutMs: resolved.idleTimeoutMs };
  const tokenOpts: TokenEndpointOptions = { gatekeeper, users, anonymousPull, secret, service, ttlSeconds: resolved.tokenTtlSeconds, clock };
  const reportError = (err: unknown, where: string): void => {
    try {
      opts.onError?.(err, where);
    } catch {
      // a failing logger must not take the server down
    }
  };

  let closing = false;
  let server: Server;

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown, log: RequestLogState): void => {
    if (isDisconnect(req, res, err)) {
      res.destroy();
      return;
    }
    let answer = toServerError(err);
    if (!answer) {
      log.error = err instanceof Error ? err.message : String(err);
      reportError(err, `${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`);
      answer = internalError();
    }
    sendError(req, res, answer);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (closing) res.setHeader('connection', 'close');
    // While closing, a keep-alive connection whose last answer just went out is idle: let it go.
    res.once('close', () => {
      if (closing) server.closeIdleConnections();
    });
    const log = watchRequest(req, res, opts.onRequest);
    watchRequestBody(req, res, resolved.idleTimeoutMs);
    try {
      const url = new URL(req.url ?? '/', 'http://registry.invalid');
      if (url.pathname === TOKEN_PATH) await handleTokenRequest(req, res, url.searchParams, tokenOpts);
      else await routeApiRequest(req, res, url, deps, { readOnly: resolved.readOnly }, (user) => (log.user = user));
    } catch (err) {
      fail(req, res, err, log);
    }
  };

  // No whole-request timeout: a multi-GB PATCH legitimately takes long; a stalled one is cut by
  // client-idle.ts. Headers must come quickly (Node checks every connectionsCheckingInterval).
  const { headersTimeoutMs } = resolved;
  const serverOptions = {
    requestTimeout: 0,
    headersTimeout: headersTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(headersTimeoutMs / 4))),
    keepAliveTimeout: 5_000,
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => void handle(req, res);
  server = tls ? createHttpsServer({ ...serverOptions, ...tls }, listener) : createHttpServer(serverOptions, listener);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Headers too slow (headersTimeout): 408, as Node's own handler says; anything else is a malformed request.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  server.on('tlsClientError', () => undefined); // TLS < 1.2 and other handshake failures: the socket is already gone

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new NetworkError(`cannot listen on ${resolved.host}:${resolved.port}: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  const url = `${scheme}://${hostPart}:${port}`;

  const sweep = async (): Promise<void> => {
    await sessions.expire().catch((err: unknown) => reportError(err, 'upload janitor'));
    try {
      if (!resolved.readOnly) pins.dropExpired();
    } catch (err) {
      reportError(err, 'pin janitor');
    }
  };
  const janitor = setInterval(() => void sweep(), Math.max(1000, Math.min(60_000, Math.floor(resolved.uploadTtlMs / 2))));
  janitor.unref();

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      closing = true;
      clearInterval(janitor);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), resolved.shutdownTimeoutMs);
      await stopped;
      clearTimeout(deadline);
      await sessions.closeAll();
      try {
        if (!resolved.readOnly) pins.dropAll();
      } catch (err) {
        reportError(err, 'dropping upload pins at close');
      }
      if (opts.ownsStore) await store.close();
    })());

  return {
    url,
    address: `${hostPart}:${port}`,
    port,
    secure: tls !== undefined,
    open: users === undefined,
    banner: bannerLines(url, store.dir, opts, resolved),
    uploadsInProgress: () => sessions.size,
    sweep,
    close,
  };
}
