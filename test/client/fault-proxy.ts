import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { sendJson, startFixture, type FixtureServer } from './fixture-server.js';

// A fault-injecting HTTP proxy in front of a real registry: per request it
// forwards, or answers 503, or 429 with Retry-After, or forwards and then cuts
// the connection in the middle of the response body, or goes away altogether
// (every connection dropped, the port closed: a registry killed mid-transfer).
// The schedule is a pure function of the request number, so runs are reproducible.

export type Fault = 'forward' | '503' | '429' | 'cut' | 'cut-upload' | 'die';

export interface FaultProxyStats {
  faults: Record<Fault, number>;
  /** Response body bytes forwarded per request path (GETs of blobs). */
  bodyBytes: Map<string, number>;
  /** Range headers seen per request path. */
  ranges: Map<string, string[]>;
  /** Content-Range of every PATCH, in order ('' when absent). */
  patches: string[];
}

export interface FaultProxy extends FixtureServer {
  readonly stats: FaultProxyStats;
}

export interface FaultSchedule {
  /** Which fault request number `n` (1-based) gets. */
  pick(n: number, req: IncomingMessage): Fault;
  /** Retry-After value for a 429. */
  retryAfter?(n: number, req: IncomingMessage): string;
  /** For a 'cut': bytes of body to forward before closing. */
  cutAfter?(contentLength: number, path: string): number;
  /** For a 'cut-upload': bytes of the REQUEST body to forward before closing both connections. */
  cutUploadAfter?(contentLength: number): number;
}

export async function startFaultProxy(upstream: URL, schedule: FaultSchedule): Promise<FaultProxy> {
  const stats: FaultProxyStats = { faults: { forward: 0, '503': 0, '429': 0, cut: 0, 'cut-upload': 0, die: 0 }, bodyBytes: new Map(), ranges: new Map(), patches: [] };
  let n = 0;
  let dead = false;
  let server: FixtureServer | undefined;
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    n += 1;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.headers.range) stats.ranges.set(path, [...(stats.ranges.get(path) ?? []), req.headers.range]);
    if (req.method === 'PATCH') stats.patches.push(String(req.headers['content-range'] ?? ''));
    const fault = schedule.pick(n, req);
    stats.faults[fault] += 1;
    if (fault === 'die' || dead) {
      dead = true;
      req.socket.destroy();
      void server?.stop();
      return;
    }
    if (fault === '503' || fault === '429') {
      // Answer without reading the body, as an overloaded front end does.
      req.resume();
      const headers: Record<string, string> = { connection: 'close' };
      if (fault === '429') headers['retry-after'] = schedule.retryAfter?.(n, req) ?? '0';
      const code = fault === '429' ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
      sendJson(res, fault === '429' ? 429 : 503, { errors: [{ code, message: 'injected by the fault proxy' }] }, headers);
      return;
    }
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      const length = Number(ures.headers['content-length'] ?? 0);
      const limit = fault === 'cut' && req.method === 'GET' ? (schedule.cutAfter?.(length, path) ?? Math.floor(length / 2)) : Infinity;
      let sent = 0;
      ures.on('data', (chunk: Buffer) => {
        if (sent >= limit) return;
        const part = sent + chunk.length > limit ? chunk.subarray(0, limit - sent) : chunk;
        sent += part.length;
        stats.bodyBytes.set(path, (stats.bodyBytes.get(path) ?? 0) + part.length);
        res.write(part);
        if (sent >= limit) {
          ures.destroy();
          // Close the client connection mid-body (after flushing what was written):
          // the client sees the body end short of Content-Length.
          res.socket?.end();
        }
      });
      ures.on('end', () => {
        if (sent < limit) res.end();
      });
    });
    up.on('error', () => res.socket?.destroy());
    if (fault === 'cut-upload') {
      // The registry gets the first bytes of the body, then both connections drop, as on a pulled cable.
      const limit = schedule.cutUploadAfter?.(Number(req.headers['content-length'] ?? 0)) ?? 0;
      let forwarded = 0;
      req.on('data', (chunk: Buffer) => {
        if (forwarded >= limit) return;
        const part = forwarded + chunk.length > limit ? chunk.subarray(0, limit - forwarded) : chunk;
        forwarded += part.length;
        up.write(part);
        if (forwarded >= limit) {
          req.pause();
          // Give the registry a moment to store what arrived, then cut.
          setTimeout(() => {
            up.destroy();
            res.socket?.destroy();
          }, 200);
        }
      });
    } else {
      req.pipe(up);
    }
    await new Promise<void>((resolve) => res.on('close', resolve));
  };
  server = await startFixture(handler);
  return Object.assign(server, { stats });
}
