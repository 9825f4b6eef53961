import { request } from 'node:http';
import { Transform } from 'node:stream';
import { startFixture, type FixtureServer } from '../client/fixture-server.js';

// A pass-through proxy in front of a real registry that lets bodies (blob
// downloads and uploads alike) through 64 KiB at a time with a pause between
// chunks, so a transfer is reliably still in flight when a test looks at it
// and sends a signal. It records the Range headers it forwarded (a resumed
// download asks for the rest) and counts the body bytes it let through.

export interface SlowProxy extends FixtureServer {
  /** Body bytes forwarded so far, both directions. */
  moved(): number;
  /** Range headers of GET requests, by path. */
  readonly ranges: Map<string, string[]>;
}

const CHUNK = 64 * 1024;

function throttle(pauseMs: number, count: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const parts: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += CHUNK) parts.push(chunk.subarray(i, i + CHUNK));
      const next = (): void => {
        const part = parts.shift();
        if (!part) return callback();
        this.push(part);
        count(part.length);
        setTimeout(next, pauseMs);
      };
      next();
    },
  });
}

export async function startSlowProxy(upstream: URL, pauseMs = 10): Promise<SlowProxy> {
  let moved = 0;
  const ranges = new Map<string, string[]>();
  const count = (n: number): void => void (moved += n);
  const server = await startFixture(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && req.headers.range) ranges.set(path, [...(ranges.get(path) ?? []), req.headers.range]);
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(throttle(pauseMs, count)).pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    res.on('close', () => up.destroy());
    req.pipe(throttle(pauseMs, count)).pipe(up);
    await new Promise<void>((resolve) => res.on('close', resolve));
  });
  return Object.assign(server, { moved: () => moved, ranges });
}
