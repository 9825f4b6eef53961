import { request as httpRequest } from 'node:http';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createRegistryServer } from '../../src/registry/server/index.js';
import { openStore } from '../../src/store/index.js';
import { manualClock } from '../helpers/manual-clock.js';
import { pushBlob, pushImage, serve, sha256 } from './harness.js';

// Running a registry: read-only mode, expiring upload sessions, graceful
// shutdown, the request log, 500s that do not kill the server, and the rule that
// keeps an open (no users) registry on loopback.

/** Waits for something another party does (the server reading a body, writing its log), not for time to pass. */
async function until(check: () => Promise<boolean>, tries = 1000): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await sleep(10);
  }
  return false;
}

describe('operations', () => {
  it('read-only: reads work, every write is 405 UNSUPPORTED with a clear message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-ro-'));
    const writer = await serve({ storeDir: dir });
    const { digest } = await pushImage(writer, 'ro/app', 'v1', 'read-only');
    await writer.stop();
    const s = await serve({ storeDir: dir, readOnly: true });
    try {
      expect(s.server.banner.join('\n')).toMatch(/read-only/);
      expect((await s.send('GET', '/v2/ro/app/manifests/v1')).headers['docker-content-digest']).toBe(digest);
      const writes = [
        await s.send('POST', '/v2/ro/app/blobs/uploads/'),
        await s.send('PUT', '/v2/ro/app/manifests/v2', { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: '{}' }),
        await s.send('DELETE', `/v2/ro/app/manifests/${digest}`),
        await s.send('PATCH', '/v2/ro/app/blobs/uploads/x', { body: 'x' }),
      ];
      for (const a of writes) {
        expect([a.status, a.code]).toEqual([405, 'UNSUPPORTED']);
        expect(a.json<{ errors: Array<{ message: string }> }>().errors[0]?.message).toMatch(/read-only/);
      }
      expect((await s.send('GET', '/v2/ro/app/manifests/v1')).status).toBe(200);
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an idle upload session expires: the janitor aborts it and deletes its partial', async () => {
    const clock = manualClock();
    const s = await serve({ uploadTtlMs: 1500, clock: clock.now });
    try {
      const start = await s.send('POST', '/v2/ttl/app/blobs/uploads/');
      await s.send('PATCH', start.headers.location ?? '', { body: Buffer.alloc(4096, 3) });
      const partials = async () => (await readdir(join(s.storeDir, 'ingest'))).filter((f) => f.endsWith('.partial'));
      expect(await partials()).toHaveLength(1);
      clock.advance(1400);
      await s.server.sweep();
      expect(await partials(), 'not idle for the whole TTL yet').toHaveLength(1);
      clock.advance(200);
      await s.server.sweep();
      // Checked on disk: asking the session for its status would count as activity.
      expect(await partials()).toHaveLength(0);
      expect((await s.send('GET', start.headers.location ?? '')).code).toBe('BLOB_UPLOAD_UNKNOWN');
      expect(s.server.uploadsInProgress()).toBe(0);
      // A session that keeps being used does not expire, however long it lives in all.
      const busy = await s.send('POST', '/v2/ttl/app/blobs/uploads/');
      for (let i = 0; i < 6; i++) {
        clock.advance(1000);
        await s.server.sweep();
        expect((await s.send('PATCH', busy.headers.location ?? '', { body: Buffer.alloc(10, i) })).status).toBe(202);
      }
    } finally {
      await s.stop();
    }
  });

  it('too many open upload sessions → 429 TOOMANYREQUESTS', async () => {
    const s = await serve({ maxUploads: 2 });
    try {
      expect((await s.send('POST', '/v2/many/app/blobs/uploads/')).status).toBe(202);
      expect((await s.send('POST', '/v2/many/app/blobs/uploads/')).status).toBe(202);
      const third = await s.send('POST', '/v2/many/app/blobs/uploads/');
      expect([third.status, third.code]).toEqual([429, 'TOOMANYREQUESTS']);
    } finally {
      await s.stop();
    }
  });

  it('graceful close: refuses new connections, finishes the in-flight upload, keeps a store it does not own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-close-'));
    const store = await openStore(dir);
    const server = await createRegistryServer({ store, port: 0 });
    try {
      const start = await fetch(`${server.url}/v2/close/app/blobs/uploads/`, { method: 'POST' });
      const location = start.headers.get('location') ?? '';
      const chunk = Buffer.alloc(64 * 1024, 5);
      // A PATCH whose body is still arriving when close() is called.
      let answered: (status: number) => void = () => undefined;
      const answer = new Promise<number>((resolve) => (answered = resolve));
      const req = httpRequest(`${server.url}${location}`, { method: 'PATCH', headers: { 'content-length': String(chunk.length * 2) } }, (res) => {
        res.resume();
        answered(res.statusCode ?? 0);
      });
      const failed = new Promise<never>((_, reject) => req.on('error', reject));
      req.write(chunk);
      // The server is inside the PATCH once the first half of its body is in the partial.
      const ingest = join(dir, 'ingest');
      const received = async () => {
        const files = (await readdir(ingest)).filter((f) => f.endsWith('.partial'));
        const sizes = await Promise.all(files.map(async (f) => (await stat(join(ingest, f))).size));
        return sizes.some((n) => n >= chunk.length);
      };
      expect(await until(received)).toBe(true);
      const closed = server.close();
      await expect(fetch(`${server.url}/v2/`)).rejects.toThrow();
      req.end(chunk);
      expect(await Promise.race([answer, failed])).toBe(202);
      await closed;
      expect(server.uploadsInProgress()).toBe(0);
      expect(store.listRepositories().items).toEqual([]); // still open: it was not the server's to close
    } finally {
      await server.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('close() closes the store when it owns it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-own-'));
    const store = await openStore(dir);
    const server = await createRegistryServer({ store, port: 0, ownsStore: true });
    await server.close();
    expect(() => store.listRepositories()).toThrow();
    await rm(dir, { recursive: true, force: true });
  });

  it('the request log has method, path (no query), status, bytes, ms and user', async () => {
    const s = await serve();
    try {
      const bytes = Buffer.alloc(10_000, 1);
      const digest = await pushBlob(s, 'log/app', bytes);
      await s.send('GET', `/v2/log/app/blobs/${digest}`);
      // The entry is written when the server sees the answer finish, which may be after the client has it.
      expect(await until(async () => s.log.some((e) => e.method === 'GET' && e.path === `/v2/log/app/blobs/${digest}`))).toBe(true);
      const post = s.log.find((e) => e.method === 'POST');
      expect(post).toMatchObject({ path: '/v2/log/app/blobs/uploads/', status: 201, user: undefined });
      expect(post?.received).toBeGreaterThanOrEqual(0);
      const get = s.log.find((e) => e.method === 'GET' && e.path === `/v2/log/app/blobs/${digest}`);
      expect(get?.status).toBe(200);
      expect(get?.bytes).toBeGreaterThan(bytes.length);
      expect(get?.ms).toBeGreaterThanOrEqual(0);
      expect(s.log.every((e) => !e.path.includes('?'))).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it('an unexpected failure is a 500 with an envelope and an onError report; the server keeps serving', async () => {
    const s = await serve();
    try {
      const blob = await pushBlob(s, 'boom/app', Buffer.from('x'));
      // Break the store under the server: the next store query throws a non-FerryError.
      await s.store.close();
      const a = await s.send('GET', `/v2/boom/app/blobs/${blob}`);
      expect([a.status, a.code]).toEqual([500, 'UNKNOWN']);
      expect(a.body.toString()).not.toMatch(/database|sqlite/i);
      expect(s.errors).toHaveLength(1);
      expect(s.log.find((e) => e.status === 500)?.error).toBeTruthy();
      expect((await s.send('GET', '/v2/')).status).toBe(200);
    } finally {
      await s.server.close();
      await rm(s.storeDir, { recursive: true, force: true });
    }
  });

  it('without a users file it refuses a non-loopback address unless insecureOpen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-open-'));
    const store = await openStore(dir);
    try {
      await expect(createRegistryServer({ store, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ exitCode: 2 });
      await expect(createRegistryServer({ store, host: '0.0.0.0', port: 0 })).rejects.toThrow(/without a users file/);
      const open = await createRegistryServer({ store, host: '0.0.0.0', port: 0, insecureOpen: true });
      expect(open.banner.join('\n')).toMatch(/WARNING: no users file and --insecure-open/);
      await open.close();
      await expect(createRegistryServer({ store, port: 0, anonymousPull: true })).rejects.toThrow(/users file/);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a listen failure is a one-line NetworkError', async () => {
    const s = await serve();
    try {
      await expect(createRegistryServer({ store: s.store, port: s.server.port })).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      await s.stop();
    }
  });

  it('uploaded blobs are pinned: a GC with no grace window keeps them until the manifest arrives', async () => {
    const s = await serve();
    try {
      const config = Buffer.from('{"pinned":true}');
      const layer = Buffer.from('pinned layer');
      await pushBlob(s, 'pin/app', config);
      await pushBlob(s, 'pin/app', layer);
      const report = await s.store.gc({ graceMs: 0 });
      expect(report.removed.map((r) => r.digest)).not.toContain(sha256(layer));
      expect(s.store.hasBlob(sha256(layer) as never)).toBe(true);
      const { digest } = await pushImage(s, 'pin/app', 'v1', 'pinned');
      expect((await s.send('GET', `/v2/pin/app/manifests/${digest}`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
