import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MediaType, digestOf } from '../../src/core/index.js';
import { createFileTraceSink, createRegistryClient, redactUrl, type TraceRecord } from '../../src/registry/client/index.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// --trace FILE: one JSON line per HTTP exchange, with every credential and
// signed-URL secret redacted — basic auth, bearer tokens, the token request's
// basic auth, upload state, storage signatures.

test('redactUrl strips userinfo and secret query values, keeps the harmless ones', () => {
  expect(redactUrl('https://user:pw@store.example/c/b?sv=2020&sig=abc%2Bdef&se=2030&n=100&digest=sha256:00')).toBe(
    'https://store.example/c/b?sv=REDACTED&sig=REDACTED&se=REDACTED&n=100&digest=sha256%3A00',
  );
  expect(redactUrl('https://s3.example/b?X-Amz-Signature=1&X-Amz-Credential=2&token=t')).not.toMatch(/=1|=2|=t\b/);
});

test('a record written after the trace was closed is dropped, not thrown into the request that made it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-trace-closed-'));
  try {
    const sink = createFileTraceSink(join(dir, 't.jsonl'));
    const record: TraceRecord = { time: new Date().toISOString(), method: 'GET', url: 'http://r/v2/', requestHeaders: {}, durationMs: 1, attempt: 1, error: 'ECONNREFUSED' };
    sink.write(record);
    const closing = sink.close();
    expect(() => sink.write(record)).not.toThrow();
    await closing;
    expect(() => sink.write(record)).not.toThrow();
    expect((await readFile(join(dir, 't.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe.skipIf(!rigContext().available)('trace file', () => {
  let dir: string;
  let basic: Registry;
  let token: Registry;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-trace-'));
    [basic, token] = await Promise.all([
      startRegistry({ auth: 'basic', password: 'basic-secret-123' }),
      startRegistry({ auth: 'token', tokenOptions: { password: 'token-secret-456' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([basic?.stop(), token?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('every exchange is a JSON line; no secret survives', async () => {
    const path = join(dir, 'trace.jsonl');
    const sink = createFileTraceSink(path);
    const blob = Buffer.from('traced blob');
    const desc = { mediaType: MediaType.ociLayerGzip, digest: digestOf(blob), size: blob.length };
    for (const [registry, username, password] of [
      [basic, 'ferry', 'basic-secret-123'],
      [token, 'ferry-user', 'token-secret-456'],
    ] as const) {
      const c = createRegistryClient({ registry: registry.host, plainHttp: true, credentials: { username, password }, trace: sink });
      await c.repository('traced/app').push(desc, Readable.from([blob]));
      expect(await c.repository('traced/app').exists(desc)).toBe(true);
      await c.close();
    }
    await sink.close();
    const text = await readFile(path, 'utf8');
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as TraceRecord);
    expect(records.length).toBeGreaterThanOrEqual(12);
    for (const r of records) {
      expect(r).toMatchObject({ method: expect.any(String), url: expect.any(String), attempt: expect.any(Number), durationMs: expect.any(Number) });
    }
    for (const secret of ['basic-secret-123', 'token-secret-456', Buffer.from('ferry:basic-secret-123').toString('base64'), Buffer.from('ferry-user:token-secret-456').toString('base64'), 'eyJ']) {
      expect(text).not.toContain(secret);
    }
    expect(records.some((r) => r.requestHeaders.authorization === 'Basic REDACTED')).toBe(true);
    expect(records.some((r) => r.requestHeaders.authorization === 'Bearer REDACTED')).toBe(true);
    const put = records.find((r) => r.method === 'PUT' && r.url.includes('/blobs/uploads/'));
    expect(put?.url).toMatch(/_state=REDACTED&digest=sha256%3A[0-9a-f]{64}$/);
    expect(put?.requestBytes).toBe(blob.length);
    const challenge = records.find((r) => r.status === 401 && r.url.startsWith(token.url));
    expect(String(challenge?.responseHeaders?.['www-authenticate'])).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/);
  });
});
