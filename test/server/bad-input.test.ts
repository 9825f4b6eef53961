import { connect } from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageManifest, pushBlob, serve, sha256, type Served } from './harness.js';

// Every "bad input" row of the spec, as raw HTTP: status + error code, and for
// uploads that nothing was committed and no partial blob is ever visible.

describe('bad input', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(async () => {
    await s.stop();
  });

  const blobFiles = async (): Promise<string[]> => readdir(join(s.storeDir, 'blobs', 'sha256'));

  it('digest mismatch on a monolithic upload → 400 DIGEST_INVALID, nothing committed', async () => {
    const bytes = Buffer.from('the real bytes');
    const claimed = sha256('other bytes');
    const before = await blobFiles();
    const a = await s.send('POST', `/v2/bad/up/blobs/uploads/?digest=${claimed}`, { body: bytes });
    expect(a.status).toBe(400);
    expect(a.code).toBe('DIGEST_INVALID');
    expect(await blobFiles()).toEqual(before);
    for (const d of [claimed, sha256(bytes)]) expect((await s.send('HEAD', `/v2/bad/up/blobs/${d}`)).status).toBe(404);
    expect(s.server.uploadsInProgress()).toBe(0);
  });

  it('digest mismatch on the closing PUT of a chunked upload → DIGEST_INVALID, nothing committed, session gone', async () => {
    const start = await s.send('POST', '/v2/bad/up/blobs/uploads/');
    const loc = start.headers.location ?? '';
    await s.send('PATCH', loc, { body: Buffer.alloc(3000, 1) });
    const before = await blobFiles();
    const put = await s.send('PUT', `${loc}?digest=${sha256(Buffer.alloc(3000, 2))}`);
    expect(put.status).toBe(400);
    expect(put.code).toBe('DIGEST_INVALID');
    expect(await blobFiles()).toEqual(before);
    expect(s.store.hasBlob(sha256(Buffer.alloc(3000, 1)) as never)).toBe(false);
    expect((await s.send('GET', loc)).code).toBe('BLOB_UPLOAD_UNKNOWN');
    expect((await readdir(join(s.storeDir, 'ingest'))).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('a blob is not visible while its upload is in progress', async () => {
    const bytes = Buffer.alloc(20_000, 9);
    const digest = sha256(bytes);
    const start = await s.send('POST', '/v2/bad/partial/blobs/uploads/');
    const patched = await s.send('PATCH', start.headers.location ?? '', { body: bytes });
    expect(patched.headers.range).toBe(`0-${bytes.length - 1}`);
    expect((await s.send('HEAD', `/v2/bad/partial/blobs/${digest}`)).status).toBe(404);
    expect(await blobFiles()).not.toContain(digest.slice(7));
    expect((await s.send('PUT', `${patched.headers.location ?? ''}?digest=${digest}`)).status).toBe(201);
    expect((await s.send('HEAD', `/v2/bad/partial/blobs/${digest}`)).status).toBe(200);
  });

  it('bad repository names → 400 NAME_INVALID', async () => {
    for (const path of ['/v2/Upper/tags/list', '/v2/a..b/manifests/latest', '/v2/-lead/blobs/uploads/', `/v2/x//y/blobs/${sha256('x')}`, '/v2/a_/tags/list']) {
      const method = path.endsWith('uploads/') ? 'POST' : 'GET';
      const a = await s.send(method, path);
      expect([path, a.status, a.code]).toEqual([path, 400, 'NAME_INVALID']);
    }
  });

  // distribution: reference.NameTotalLengthMax. 300-8,000 characters used to start an upload (202).
  it('repository names over 255 characters → 400 NAME_INVALID on every route; 255 is served', async () => {
    const named = (length: number): string => `long/${'a'.repeat(length - 5)}`;
    for (const length of [256, 300, 8000]) {
      const n = named(length);
      for (const [method, path] of [
        ['POST', `/v2/${n}/blobs/uploads/`],
        ['GET', `/v2/${n}/manifests/v1`],
        ['PUT', `/v2/${n}/manifests/v1`],
        ['GET', `/v2/${n}/blobs/${sha256('x')}`],
        ['GET', `/v2/${n}/tags/list`],
        ['GET', `/v2/${n}/referrers/${sha256('x')}`],
        ['PATCH', `/v2/${n}/blobs/uploads/00000000-0000-0000-0000-000000000000`],
      ] as const) {
        const a = await s.send(method, path);
        expect([length, method, a.status, a.code]).toEqual([length, method, 400, 'NAME_INVALID']);
      }
    }
    // As a mount source it is no repository at all: a plain upload session.
    expect((await s.send('POST', `/v2/bad/mount/blobs/uploads/?mount=${sha256('x')}&from=${named(300)}`)).status).toBe(202);
    const longest = named(255);
    await pushBlob(s, longest, Buffer.from('fits'));
    expect((await s.send('HEAD', `/v2/${longest}/blobs/${sha256('fits')}`)).status).toBe(200);
  });

  it('malformed blob digests → 400 DIGEST_INVALID', async () => {
    expect((await s.send('GET', '/v2/bad/x/blobs/sha256:1234')).code).toBe('DIGEST_INVALID');
    const put = await s.send('PUT', '/v2/bad/x/blobs/uploads/00000000-0000-0000-0000-000000000000?digest=nope');
    expect(put.status).toBe(404); // unknown session is checked first
  });

  // The spec allows only 404 on GET/HEAD of a manifest (conformance: `.INVALID_MANIFEST_NAME`); a push says what is wrong.
  it('a manifest reference that cannot name one: GET/HEAD/DELETE → 404 MANIFEST_UNKNOWN, PUT → 400 TAG_INVALID / DIGEST_INVALID', async () => {
    const manifest = { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: imageManifest(Buffer.from('{}'), []) };
    for (const ref of ['.INVALID_MANIFEST_NAME', 't'.repeat(129), '-lead', 'md5:abcd', 'sha256:1234']) {
      for (const method of ['GET', 'HEAD', 'DELETE'] as const) {
        const a = await s.send(method, `/v2/bad/x/manifests/${ref}`);
        expect([ref, method, a.status, method === 'HEAD' ? 'MANIFEST_UNKNOWN' : a.code]).toEqual([ref, method, 404, 'MANIFEST_UNKNOWN']);
      }
      const put = await s.send('PUT', `/v2/bad/x/manifests/${ref}`, manifest);
      expect([ref, put.status, put.code]).toEqual([ref, 400, ref.includes(':') ? 'DIGEST_INVALID' : 'TAG_INVALID']);
    }
  });

  it('a manifest referencing unknown blobs → 400 MANIFEST_BLOB_UNKNOWN naming them', async () => {
    const config = Buffer.from('{"c":1}');
    await pushBlob(s, 'bad/man', config);
    const layer = Buffer.from('never uploaded');
    const a = await s.send('PUT', '/v2/bad/man/manifests/v1', {
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: imageManifest(config, [layer]),
    });
    expect([a.status, a.code]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
    expect(a.body.toString()).toContain(sha256(layer));
    expect((await s.send('GET', '/v2/bad/man/manifests/v1')).status).toBe(404);
  });

  it('a manifest over 4 MiB → 413 MANIFEST_INVALID; malformed JSON → 400 MANIFEST_INVALID', async () => {
    const huge = Buffer.alloc(4 * 1024 * 1024 + 10, 0x20);
    const a = await s.send('PUT', '/v2/bad/man/manifests/huge', { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: huge });
    expect([a.status, a.code]).toEqual([413, 'MANIFEST_INVALID']);
    const b = await s.send('PUT', '/v2/bad/man/manifests/junk', { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: '{not json' });
    expect([b.status, b.code]).toEqual([400, 'MANIFEST_INVALID']);
    const schema1 = await s.send('PUT', '/v2/bad/man/manifests/old', {
      headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
      body: JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'old', fsLayers: [] }),
    });
    expect(schema1.code).toBe('MANIFEST_INVALID');
  });

  it('PUT of a manifest by a digest its bytes do not have → 400 DIGEST_INVALID', async () => {
    const config = Buffer.from('{"c":2}');
    await pushBlob(s, 'bad/man', config);
    const a = await s.send('PUT', `/v2/bad/man/manifests/${sha256('something else')}`, {
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: imageManifest(config, []),
    });
    expect([a.status, a.code]).toEqual([400, 'DIGEST_INVALID']);
  });

  it('malformed Content-Range → 416 BLOB_UPLOAD_INVALID; length disagreeing with it → 400 SIZE_INVALID', async () => {
    const start = await s.send('POST', '/v2/bad/range/blobs/uploads/');
    const loc = start.headers.location ?? '';
    const a = await s.send('PATCH', loc, { headers: { 'content-range': 'garbage' }, body: 'abc' });
    expect([a.status, a.code]).toEqual([416, 'BLOB_UPLOAD_INVALID']);
    const b = await s.send('PATCH', loc, { headers: { 'content-range': '0-9', 'content-length': '3' }, body: 'abc' });
    expect([b.status, b.code]).toEqual([400, 'SIZE_INVALID']);
    expect((await s.send('GET', loc)).headers.range).toBe('0-0');
  });

  it('unknown upload session → 404 BLOB_UPLOAD_UNKNOWN; a session of another repository likewise', async () => {
    const unknown = await s.send('PATCH', '/v2/bad/up/blobs/uploads/5b1e4f0e-0000-4000-8000-000000000000', { body: 'x' });
    expect([unknown.status, unknown.code]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
    const start = await s.send('POST', '/v2/bad/owner/blobs/uploads/');
    const id = start.headers['docker-upload-uuid'] ?? '';
    for (const method of ['GET', 'PATCH', 'PUT', 'DELETE'] as const) {
      const other = await s.send(method, `/v2/bad/intruder/blobs/uploads/${id}?digest=${sha256('')}`, method === 'PATCH' ? { body: 'x' } : {});
      expect([method, other.status, other.code]).toEqual([method, 404, 'BLOB_UPLOAD_UNKNOWN']);
    }
    expect((await s.send('GET', `/v2/bad/owner/blobs/uploads/${id}`)).status).toBe(204);
  });

  it('unknown repository tags → 404 NAME_UNKNOWN; bad page size → 400 PAGINATION_NUMBER_INVALID', async () => {
    const a = await s.send('GET', '/v2/bad/nobody/tags/list');
    expect([a.status, a.code]).toEqual([404, 'NAME_UNKNOWN']);
    const b = await s.send('GET', '/v2/_catalog?n=-1');
    expect([b.status, b.code]).toEqual([400, 'PAGINATION_NUMBER_INVALID']);
  });

  it('an unsupported method → 405 UNSUPPORTED; an unknown path → 404 with an envelope', async () => {
    const a = await s.send('POST', '/v2/bad/x/tags/list');
    expect([a.status, a.code]).toEqual([405, 'UNSUPPORTED']);
    expect(a.headers.allow).toBe('GET');
    const b = await s.send('GET', '/v3/whatever');
    expect(b.status).toBe(404);
    expect(b.code).not.toBe('');
  });

  it('garbage on the socket gets 400 and the server keeps answering', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(s.server.port, '127.0.0.1', () => socket.write('BLAH BLAH\r\n\r\n\0\0\0'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await s.send('GET', '/v2/')).status).toBe(200);
    expect(s.errors).toEqual([]);
  });
});
