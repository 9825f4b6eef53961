import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBlob, serve, sha256, type Served } from './harness.js';

// Slow clients cannot hold a connection: headers that never finish, a body that
// stops short of its Content-Length, an answer nobody reads, are cut after the
// idle timeout (distribution's http.ReadTimeout). An upload that keeps moving is
// never cut, however long it takes. Raw sockets, because no HTTP client stalls
// on purpose. No durations are asserted: only that the connection ends, well
// before a deadline the old server (requestTimeout 0) blew through.

const IDLE_MS = 400;
const DEADLINE_MS = 20_000;

/** Opens a raw connection to the server and writes `head` (and `body`, if any). */
function rawRequest(s: Served, head: string, body: Buffer | string = ''): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(s.server.port, '127.0.0.1', () => {
      socket.write(head);
      if (body.length > 0) socket.write(body);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** 'closed' once the server ends the connection, 'open' if it still holds it at the deadline. */
function outcome(socket: Socket): Promise<{ state: 'closed' | 'open'; received: string }> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ state: 'open', received });
    }, DEADLINE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ state: 'closed', received });
    });
  });
}

async function waitFor(test: () => boolean): Promise<boolean> {
  for (let waited = 0; waited < DEADLINE_MS; waited += 50) {
    if (test()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return test();
}

const headers = (lines: Record<string, string | number>): string =>
  Object.entries(lines)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');

describe('client timeouts', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ idleTimeoutMs: IDLE_MS, headersTimeoutMs: IDLE_MS });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('a body that stops short of its Content-Length is cut: chunk upload, monolithic upload, manifest, token form', async () => {
    const [location, chunkedLocation] = await Promise.all(
      [0, 1].map(async () => (await s.send('POST', '/v2/slow/body/blobs/uploads/')).headers.location ?? ''),
    );
    const requests = [
      `PATCH ${location} HTTP/1.1\r\n${headers({ host: 'x', 'content-type': 'application/octet-stream', 'content-length': 200 })}\r\n`,
      `POST /v2/slow/body/blobs/uploads/?digest=${sha256('x')} HTTP/1.1\r\n${headers({ host: 'x', 'content-length': 200 })}\r\n`,
      `PUT /v2/slow/body/manifests/v1 HTTP/1.1\r\n${headers({ host: 'x', 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': 200 })}\r\n`,
      `POST /token HTTP/1.1\r\n${headers({ host: 'x', 'content-type': 'application/x-www-form-urlencoded', 'content-length': 200 })}\r\n`,
      `PATCH ${chunkedLocation} HTTP/1.1\r\n${headers({ host: 'x', 'transfer-encoding': 'chunked' })}\r\n64\r\n`,
    ];
    const results = await Promise.all(requests.map(async (head) => outcome(await rawRequest(s, head, 'x'.repeat(100)))));
    expect(results.map((r) => r.state)).toEqual(requests.map(() => 'closed'));
    // The server is fine, and the session can go on from where the stalled chunk left it.
    for (const session of [location, chunkedLocation]) expect((await s.send('GET', session)).status).toBe(204);
  });

  it('headers that never finish are answered 408 and the connection closed', async () => {
    const result = await outcome(await rawRequest(s, 'GET /v2/ HTTP/1.1\r\nhost: x\r\n'));
    expect(result.state).toBe('closed');
    expect(result.received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a client that stops reading a blob is cut, and the server forgets the request', async () => {
    const big = Buffer.alloc(48 * 1024 * 1024, 7);
    const digest = await pushBlob(s, 'slow/read', big);
    const path = `/v2/slow/read/blobs/${digest}`;
    const socket = await rawRequest(s, `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
    socket.pause(); // reads nothing: the server's writes back up
    socket.on('error', () => undefined);
    try {
      expect(await waitFor(() => s.log.some((e) => e.method === 'GET' && e.path === path))).toBe(true);
      const entry = s.log.find((e) => e.method === 'GET' && e.path === path);
      expect(entry?.bytes ?? 0).toBeLessThan(big.length);
    } finally {
      socket.destroy();
    }
  });

  it('an upload that keeps moving is never cut, however much longer than the idle timeout it takes', async () => {
    const slow = await serve({ idleTimeoutMs: 2000, headersTimeoutMs: 2000 });
    try {
      const started = await slow.send('POST', '/v2/slow/moving/blobs/uploads/');
      const chunks = Array.from({ length: 20 }, (_, i) => Buffer.from(`chunk ${i} `.repeat(10)));
      const body = Buffer.concat(chunks);
      const socket = await rawRequest(slow, `PATCH ${started.headers.location ?? ''} HTTP/1.1\r\n${headers({ host: 'x', 'content-length': body.length, connection: 'close' })}\r\n`);
      const answer = outcome(socket);
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 250));
      }
      const result = await answer;
      expect(result.received).toMatch(/^HTTP\/1\.1 202/);
      const status = await slow.send('GET', started.headers.location ?? '');
      expect(status.headers.range).toBe(`0-${body.length - 1}`);
    } finally {
      await slow.stop();
    }
  });
});
