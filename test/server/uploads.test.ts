import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBlob, serve, sha256, type Served } from './harness.js';

// The blob and upload protocol over raw HTTP: every variant of POST/PATCH/PUT,
// Range reads, per-repository links, cross-repository mounts.

describe('blobs and uploads', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('answers the version check with the API version header', async () => {
    const a = await s.send('GET', '/v2/');
    expect(a.status).toBe(200);
    expect(a.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('monolithic POST ?digest= stores the blob; GET and HEAD serve it with digest and length', async () => {
    const bytes = Buffer.from('monolithic blob\n'.repeat(1000));
    const digest = await pushBlob(s, 'mono/a', bytes);
    const head = await s.send('HEAD', `/v2/mono/a/blobs/${digest}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(bytes.length));
    expect(head.headers['docker-content-digest']).toBe(digest);
    expect(head.headers['accept-ranges']).toBe('bytes');
    const get = await s.send('GET', `/v2/mono/a/blobs/${digest}`);
    expect(get.status).toBe(200);
    expect(sha256(get.body)).toBe(digest);
  });

  it('Range GET answers 206 with exactly the asked bytes; past the end is 416', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
    const digest = await pushBlob(s, 'range/a', bytes);
    const part = await s.send('GET', `/v2/range/a/blobs/${digest}`, { headers: { range: 'bytes=100-1099' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-1099/${bytes.length}`);
    expect(part.body.equals(bytes.subarray(100, 1100))).toBe(true);
    const tail = await s.send('GET', `/v2/range/a/blobs/${digest}`, { headers: { range: 'bytes=4000-' } });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(bytes.subarray(4000))).toBe(true);
    const suffix = await s.send('GET', `/v2/range/a/blobs/${digest}`, { headers: { range: 'bytes=-10' } });
    expect(suffix.body.equals(bytes.subarray(bytes.length - 10))).toBe(true);
    const beyond = await s.send('GET', `/v2/range/a/blobs/${digest}`, { headers: { range: 'bytes=5000-6000' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${bytes.length}`);
  });

  it('chunked upload: POST → PATCH with Content-Range → GET status → PUT with the last chunk', async () => {
    const bytes = Buffer.from('chunk-'.repeat(3000));
    const digest = sha256(bytes);
    const start = await s.send('POST', '/v2/chunks/a/blobs/uploads/');
    expect(start.status).toBe(202);
    expect(start.headers.range).toBe('0-0');
    const uuid = start.headers['docker-upload-uuid'];
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    let location = start.headers.location ?? '';
    expect(location).toBe(`/v2/chunks/a/blobs/uploads/${uuid}`);
    const first = await s.send('PATCH', location, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': '0-9999', 'content-length': '10000' },
      body: bytes.subarray(0, 10000),
    });
    expect(first.status).toBe(202);
    expect(first.headers.range).toBe('0-9999');
    location = first.headers.location ?? '';
    const status = await s.send('GET', location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe('0-9999');
    // An out-of-order chunk is refused and changes nothing.
    const wrong = await s.send('PATCH', location, { headers: { 'content-range': '5000-5999' }, body: bytes.subarray(5000, 6000) });
    expect(wrong.status).toBe(416);
    expect(wrong.code).toBe('RANGE_INVALID');
    expect(wrong.headers.range).toBe('0-9999');
    const done = await s.send('PUT', `${location}?digest=${digest}`, {
      headers: { 'content-range': `10000-${bytes.length - 1}` },
      body: bytes.subarray(10000),
    });
    expect(done.status).toBe(201);
    expect(done.headers['docker-content-digest']).toBe(digest);
    expect(done.headers.location).toBe(`/v2/chunks/a/blobs/${digest}`);
    const get = await s.send('GET', `/v2/chunks/a/blobs/${digest}`);
    expect(get.body.equals(bytes)).toBe(true);
    // The session is gone once committed.
    expect((await s.send('GET', location)).code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('streamed PATCH without Content-Range, then PUT without a body', async () => {
    const bytes = Buffer.from('streamed\n'.repeat(20000));
    const digest = sha256(bytes);
    const start = await s.send('POST', '/v2/stream/a/blobs/uploads/');
    const patch = await s.send('PATCH', start.headers.location ?? '', { body: bytes });
    expect(patch.headers.range).toBe(`0-${bytes.length - 1}`);
    const put = await s.send('PUT', `${patch.headers.location ?? ''}?digest=${digest}`);
    expect(put.status).toBe(201);
    expect(s.store.hasBlob(digest as never)).toBe(true);
  });

  it('a blob pushed to repository A is not served from B until mounted; mount answers 201', async () => {
    const bytes = Buffer.from('linked only where pushed\n'.repeat(100));
    const digest = await pushBlob(s, 'links/a', bytes);
    expect((await s.send('HEAD', `/v2/links/b/blobs/${digest}`)).status).toBe(404);
    const get = await s.send('GET', `/v2/links/b/blobs/${digest}`);
    expect(get.status).toBe(404);
    expect(get.code).toBe('BLOB_UNKNOWN');
    const mount = await s.send('POST', `/v2/links/b/blobs/uploads/?mount=${digest}&from=links/a`);
    expect(mount.status).toBe(201);
    expect(mount.headers['docker-content-digest']).toBe(digest);
    expect(mount.headers.location).toBe(`/v2/links/b/blobs/${digest}`);
    expect((await s.send('GET', `/v2/links/b/blobs/${digest}`)).body.equals(bytes)).toBe(true);
  });

  it('a mount from a repository without the blob falls back to an upload session (202)', async () => {
    const digest = sha256('never pushed anywhere');
    const mount = await s.send('POST', `/v2/links/c/blobs/uploads/?mount=${digest}&from=links/a`);
    expect(mount.status).toBe(202);
    expect(mount.headers.location).toMatch(/^\/v2\/links\/c\/blobs\/uploads\//);
    expect((await s.send('DELETE', mount.headers.location ?? '')).status).toBe(204);
  });

  it('DELETE of an upload cancels it and removes its partial', async () => {
    const start = await s.send('POST', '/v2/cancel/a/blobs/uploads/');
    await s.send('PATCH', start.headers.location ?? '', { body: Buffer.alloc(5000, 7) });
    const ingest = join(s.storeDir, 'ingest');
    expect((await readdir(ingest)).some((f) => f.endsWith('.partial'))).toBe(true);
    expect((await s.send('DELETE', start.headers.location ?? '')).status).toBe(204);
    expect((await readdir(ingest)).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect((await s.send('GET', start.headers.location ?? '')).code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('DELETE of a blob unlinks it from that repository only', async () => {
    const bytes = Buffer.from('delete me here only');
    const digest = await pushBlob(s, 'del/a', bytes);
    await s.send('POST', `/v2/del/b/blobs/uploads/?mount=${digest}&from=del/a`);
    expect((await s.send('DELETE', `/v2/del/a/blobs/${digest}`)).status).toBe(202);
    expect((await s.send('HEAD', `/v2/del/a/blobs/${digest}`)).status).toBe(404);
    expect((await s.send('HEAD', `/v2/del/b/blobs/${digest}`)).status).toBe(200);
    expect((await s.send('DELETE', `/v2/del/a/blobs/${digest}`)).code).toBe('BLOB_UNKNOWN');
  });

  it('routes nested names that contain the API words (parsed from the right end)', async () => {
    const name = 'deep/blobs/uploads/manifests/tags/x';
    const bytes = Buffer.from('nested name');
    const digest = await pushBlob(s, name, bytes);
    expect((await s.send('GET', `/v2/${name}/blobs/${digest}`)).body.equals(bytes)).toBe(true);
    const start = await s.send('POST', `/v2/${name}/blobs/uploads/`);
    expect(start.headers.location).toMatch(new RegExp(`^/v2/${name}/blobs/uploads/[0-9a-f-]{36}$`));
    expect((await s.send('DELETE', start.headers.location ?? '')).status).toBe(204);
    expect((await s.send('GET', `/v2/${name}/tags/list`)).json()).toEqual({ name, tags: [] });
  });

  it('an empty blob uploads with no body and is served with length 0', async () => {
    const digest = sha256('');
    const put = await s.send('POST', `/v2/empty/a/blobs/uploads/?digest=${digest}`);
    expect(put.status).toBe(201);
    const get = await s.send('GET', `/v2/empty/a/blobs/${digest}`);
    expect([get.status, get.headers['content-length'], get.body.length]).toEqual([200, '0', 0]);
  });
});
