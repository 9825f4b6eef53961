import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBlob, serve, type Served } from './harness.js';

// A request whose answer is an error, on a keep-alive connection whose previous
// answer is still going out: Node queues the second answer with no socket yet
// (res.socket === null). That is not a client gone away; the error must be
// answered once the first answer is done. Pipelining makes the overlap certain;
// over TLS a client's next request can overtake the previous answer's 'finish'
// the same way (the conformance suite saw EOF on its next PUT).

interface RawAnswer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** The complete answers at the front of `buf`. */
function parseAnswers(buf: Buffer): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return answers;
    const [statusLine = '', ...lines] = buf.subarray(at, end).toString('latin1').split('\r\n');
    const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers.get('content-length') ?? '0');
    if (buf.length < end + 4 + length) return answers;
    answers.push({ status: Number(statusLine.split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
}

/** Sends `requests` in one write and reads until `count` answers are in or the server closes. */
function exchange(port: number, requests: string, count: number): Promise<{ answers: RawAnswer[]; closedEarly: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(requests));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answers = parseAnswers(Buffer.concat(chunks));
      if (answers.length >= count) {
        socket.destroy();
        resolve({ answers, closedEarly: false });
      }
    });
    socket.on('close', () => resolve({ answers: parseAnswers(Buffer.concat(chunks)), closedEarly: true }));
    socket.on('error', reject);
  });
}

describe('keep-alive: an error answer queued behind another answer', () => {
  let s: Served;
  let digest: string;
  const big = randomBytes(8 * 1024 * 1024); // long enough to be still going out when the second request fails

  beforeAll(async () => {
    s = await serve();
    digest = await pushBlob(s, 'keep/alive', big);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers the second request instead of closing the connection', async () => {
    const requests =
      `GET /v2/keep/alive/blobs/${digest} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n` + `GET /v2/keep/alive/manifests/missing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const { answers, closedEarly } = await exchange(s.server.port, requests, 2);
    expect(closedEarly).toBe(false);
    expect(answers.map((a) => a.status)).toEqual([200, 404]);
    expect(answers[0]?.body.equals(big)).toBe(true);
    expect(JSON.parse(answers[1]?.body.toString('utf8') ?? '{}')).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
  });
});
