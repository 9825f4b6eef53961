import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/registry/server/index.js';
import { basicAuth, pushBlob, pushImage, serve, sha256, type Answer, type Served } from './harness.js';

// One name, one decision: every repository a request can be served from passes the
// same access check, whatever the spelling of the request (`?ns=`, a mount's
// `from`, the referrers list, the catalog, token scopes). A user allowed only
// `secret/*` must learn nothing of `docker.io/secret/app`, by any route.

const PW = { admin: 'admin-pw', scoped: 'scoped-pw', mirror: 'mirror-pw' } as const;
type User = keyof typeof PW;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Image {
  readonly digest: string;
  readonly layer: string;
}

/** The read endpoints of one image under `name`, with an optional query (`ns=docker.io`). */
function reads(name: string, image: Image, query = ''): Array<[method: 'GET' | 'HEAD', path: string, kind: string]> {
  const q = query === '' ? '' : `?${query}`;
  return [
    ['GET', `/v2/${name}/manifests/v1${q}`, 'manifest'],
    ['HEAD', `/v2/${name}/manifests/v1${q}`, 'manifest'],
    ['GET', `/v2/${name}/manifests/${image.digest}${q}`, 'manifest'],
    ['HEAD', `/v2/${name}/manifests/${image.digest}${q}`, 'manifest'],
    ['GET', `/v2/${name}/blobs/${image.layer}${q}`, 'blob'],
    ['HEAD', `/v2/${name}/blobs/${image.layer}${q}`, 'blob'],
    ['GET', `/v2/${name}/tags/list${q}`, 'tags'],
    ['GET', `/v2/${name}/referrers/${image.digest}${q}`, 'referrers'],
  ];
}

function challengeScopes(a: Answer): string[] {
  return /scope="([^"]*)"/.exec(a.headers['www-authenticate'] ?? '')?.[1]?.split(' ') ?? [];
}

function claims(jwt: string): { access: Array<{ type: string; name: string; actions: string[] }> } {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { access: Array<{ type: string; name: string; actions: string[] }> };
}

describe('access on the name content is read from', () => {
  let dir: string;
  let s: Served;
  let upstream: Image; // docker.io/secret/app:v1, as `ferry import --to-store` names it
  let referrer: string;
  let other: Image; // other/app:v1
  const as = (user: User): Record<string, string> => ({ authorization: basicAuth(user, PW[user]) });
  const sendAs = (user: User): Pick<Served, 'send'> => ({ send: (m, p, o) => s.send(m, p, { ...o, headers: { ...o?.headers, ...as(user) } }) });

  /** A token for `scopes` from the token endpoint, as `user` (Basic). */
  async function token(user: User, scopes: readonly string[]): Promise<string> {
    const query = scopes.map((sc) => `scope=${encodeURIComponent(sc)}`).join('&');
    const a = await s.send('GET', `/token?service=ferry&${query}`, { headers: as(user) });
    expect(a.status).toBe(200);
    return String(a.json().token);
  }

  /** What a token client does: ask anonymously, fetch a token for the challenge's scopes, ask again with it. */
  async function asTokenClient(user: User, method: 'GET' | 'HEAD' | 'POST', path: string): Promise<{ answer: Answer; scopes: string[]; granted: string[] }> {
    const first = await s.send(method, path);
    expect(first.status).toBe(401);
    const scopes = challengeScopes(first);
    const jwt = await token(user, scopes);
    const answer = await s.send(method, path, { headers: { authorization: `Bearer ${jwt}` } });
    return { answer, scopes, granted: claims(jwt).access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`) };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-serve-access-'));
    const users = join(dir, 'users.yaml');
    await addUser(users, 'admin', PW.admin, [{ pattern: '*', roles: ['pull', 'push', 'delete'] }]);
    await addUser(users, 'scoped', PW.scoped, [{ pattern: 'secret/*', roles: ['pull', 'push', 'delete'] }]);
    await addUser(users, 'mirror', PW.mirror, [{ pattern: 'docker.io/*', roles: ['pull'] }]);
    s = await serve({ users });
    const admin = sendAs('admin');
    const up = await pushImage(admin, 'docker.io/secret/app', 'v1', 'upstream secret');
    upstream = { digest: up.digest, layer: sha256(up.blobs[1] as Buffer) };
    // A signature-like referrer of the upstream image, in the upstream repository.
    const empty = Buffer.from('{}');
    await pushBlob(admin, 'docker.io/secret/app', empty);
    const sig = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.example.sig',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 }],
        subject: { mediaType: OCI_MANIFEST, digest: up.digest, size: up.manifest.length },
      }),
    );
    referrer = sha256(sig);
    expect((await admin.send('PUT', `/v2/docker.io/secret/app/manifests/${referrer}`, { headers: { 'content-type': OCI_MANIFEST }, body: sig })).status).toBe(201);
    const o = await pushImage(admin, 'other/app', 'v1', 'other');
    other = { digest: o.digest, layer: sha256(o.blobs[1] as Buffer) };
  });
  afterAll(async () => {
    await s?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('admin reads docker.io/secret/app by its store name and through ?ns=docker.io (the alias works)', async () => {
    for (const [method, path] of [...reads('docker.io/secret/app', upstream), ...reads('secret/app', upstream, 'ns=docker.io')]) {
      const a = await s.send(method, path, { headers: as('admin') });
      expect([method, path, a.status]).toEqual([method, path, 200]);
    }
    const refs = await s.send('GET', `/v2/secret/app/referrers/${upstream.digest}?ns=docker.io`, { headers: as('admin') });
    expect(refs.json<{ manifests: Array<{ digest: string }> }>().manifests.map((m) => m.digest)).toEqual([referrer]);
  });

  it('a user allowed only secret/* reads nothing of docker.io/secret/app: 403 by its name, 404 (as if absent) through ?ns=, on every read endpoint', async () => {
    for (const [method, path] of reads('docker.io/secret/app', upstream)) {
      const a = await s.send(method, path, { headers: as('scoped') });
      expect([method, path, a.status]).toEqual([method, path, 403]);
    }
    // With ns, the candidates are docker.io/secret/app (not readable: never tried) and secret/app (readable, absent).
    const expected: Record<string, [number, string]> = { manifest: [404, 'MANIFEST_UNKNOWN'], blob: [404, 'BLOB_UNKNOWN'], tags: [404, 'NAME_UNKNOWN'], referrers: [200, ''] };
    for (const [method, path, kind] of reads('secret/app', upstream, 'ns=docker.io')) {
      const a = await s.send(method, path, { headers: as('scoped') });
      const [status, code] = expected[kind] ?? [0, ''];
      expect([method, path, a.status, method === 'HEAD' ? code : a.code]).toEqual([method, path, status, code]);
      expect(a.headers['docker-content-digest']).toBeUndefined();
    }
    const refs = await s.send('GET', `/v2/secret/app/referrers/${upstream.digest}?ns=docker.io`, { headers: as('scoped') });
    expect(refs.json<{ manifests: unknown[] }>().manifests).toEqual([]);
    // Spelling the store name with ns again reaches nothing either.
    for (const [method, path] of reads('docker.io/secret/app', upstream, 'ns=docker.io')) {
      expect((await s.send(method, path, { headers: as('scoped') })).status).toBe(403);
    }
  });

  // Sent as raw paths (a URL object would remove the dot segments before the server saw them): a name
  // that starts inside `secret/*` and climbs out of it is judged as the name it reaches, never as the
  // one it starts with; an encoded slash is no name at all.
  it('dot segments and encoded slashes in the raw path reach docker.io/secret/app for nobody allowed only secret/*', async () => {
    const rawGet = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(s.server.url);
        const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', headers: as('scoped') }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    const climbs = ['secret/../docker.io/secret/app', 'secret/%2E%2E/docker.io/secret/app', 'secret/app/../../docker.io/secret/app', 'secret/./../docker.io/secret/app'];
    for (const name of climbs) for (const [, path] of reads(name, upstream).filter(([m]) => m === 'GET')) expect([path, await rawGet(path)]).toEqual([path, 403]);
    for (const name of ['secret/..%2Fdocker.io/secret/app', 'secret%2F..%2Fdocker.io/secret/app', 'docker.io//secret/app']) {
      for (const [, path] of reads(name, upstream).filter(([m]) => m === 'GET')) expect([path, await rawGet(path)]).toEqual([path, 400]);
    }
    // An empty segment climbed out of stays inside secret/*: another name, which does not exist.
    for (const [, path] of reads('secret//../docker.io/secret/app', upstream).filter(([m, , kind]) => m === 'GET' && kind !== 'referrers')) expect([path, await rawGet(path)]).toEqual([path, 404]);
  });

  it('the same through bearer tokens: the challenge names every candidate, the token endpoint grants only the readable one, and it reads nothing', async () => {
    for (const [method, path, kind] of reads('secret/app', upstream, 'ns=docker.io')) {
      if (method !== 'GET' && method !== 'HEAD') continue;
      const { answer, scopes, granted } = await asTokenClient('scoped', method, path);
      expect(scopes).toEqual(['repository:docker.io/secret/app:pull', 'repository:secret/app:pull']);
      expect(granted).toEqual(['repository:secret/app:pull']);
      expect([path, answer.status]).toEqual([path, kind === 'referrers' ? 200 : 404]);
      expect(answer.headers['docker-content-digest']).toBeUndefined();
      if (kind === 'referrers') expect(answer.json<{ manifests: unknown[] }>().manifests).toEqual([]);
    }
    // A token for secret/app opens neither docker.io/secret/app nor, via ns, its content.
    const jwt = { authorization: `Bearer ${await token('scoped', ['repository:secret/app:pull', 'repository:docker.io/secret/app:pull'])}` };
    expect((await s.send('GET', `/v2/docker.io/secret/app/manifests/v1`, { headers: jwt })).status).toBe(403);
    expect((await s.send('GET', `/v2/secret/app/manifests/v1?ns=docker.io`, { headers: jwt })).status).toBe(404);
  });

  it('anonymous clients get 401 by either spelling, with nothing said about existence', async () => {
    for (const [method, path] of [...reads('docker.io/secret/app', upstream), ...reads('secret/app', upstream, 'ns=docker.io'), ...reads('secret/nothing', upstream, 'ns=docker.io')]) {
      const a = await s.send(method, path);
      expect([method, path, a.status]).toEqual([method, path, 401]);
    }
  });

  it('a user allowed only docker.io/* reads it through ?ns= (basic and token), and not through the plain name', async () => {
    for (const [method, path] of reads('secret/app', upstream, 'ns=docker.io')) {
      const a = await s.send(method, path, { headers: as('mirror') });
      expect([method, path, a.status]).toEqual([method, path, 200]);
    }
    const viaToken = await asTokenClient('mirror', 'GET', `/v2/secret/app/manifests/v1?ns=docker.io`);
    expect(viaToken.granted).toEqual(['repository:docker.io/secret/app:pull']);
    expect([viaToken.answer.status, viaToken.answer.headers['docker-content-digest']]).toEqual([200, upstream.digest]);
    for (const [method, path] of reads('secret/app', upstream)) {
      expect((await s.send(method, path, { headers: as('mirror') })).status).toBe(403);
    }
  });

  it('when both candidates exist, each user is served from the one it may read', async () => {
    const plain = await pushImage(sendAs('admin'), 'secret/both', 'v1', 'plain both');
    const mapped = await pushImage(sendAs('admin'), 'docker.io/secret/both', 'v1', 'mapped both');
    const digestFor = async (user: User): Promise<string | undefined> =>
      (await s.send('HEAD', '/v2/secret/both/manifests/v1?ns=docker.io', { headers: as(user) })).headers['docker-content-digest'];
    expect(await digestFor('admin')).toBe(mapped.digest);
    expect(await digestFor('mirror')).toBe(mapped.digest);
    expect(await digestFor('scoped')).toBe(plain.digest);
    const tags = await s.send('GET', '/v2/secret/both/tags/list?ns=docker.io', { headers: as('scoped') });
    expect(tags.json()).toEqual({ name: 'secret/both', tags: ['v1'] });
    // The next page of a listing through ns lists the same repository.
    await s.send('PUT', '/v2/docker.io/secret/both/manifests/v2', { headers: { ...as('admin'), 'content-type': OCI_MANIFEST }, body: mapped.manifest });
    const first = await s.send('GET', '/v2/secret/both/tags/list?ns=docker.io&n=1', { headers: as('mirror') });
    const next = /^<([^>]+)>/.exec(first.headers.link ?? '')?.[1] ?? '';
    expect(new URL(next, 'http://x').searchParams.get('ns')).toBe('docker.io');
    expect((await s.send('GET', next, { headers: as('mirror') })).json()).toEqual({ name: 'secret/both', tags: ['v2'] });
  });

  it('writes ignore ?ns=: they land on, and are checked on, the name as given', async () => {
    const mine = await pushImage(sendAs('scoped'), 'secret/app', 'v2', 'scoped push');
    const pushedWithNs = await s.send('PUT', '/v2/secret/app/manifests/v3?ns=docker.io', { headers: { ...as('scoped'), 'content-type': OCI_MANIFEST }, body: mine.manifest });
    expect(pushedWithNs.status).toBe(201);
    expect((await s.send('GET', '/v2/secret/app/manifests/v3', { headers: as('scoped') })).status).toBe(200);
    expect((await s.send('GET', '/v2/docker.io/secret/app/manifests/v3', { headers: as('admin') })).status).toBe(404);
    // The mirror user may pull docker.io/*, but a write through ns is a write to secret/app.
    expect((await s.send('POST', '/v2/secret/app/blobs/uploads/?ns=docker.io', { headers: as('mirror') })).status).toBe(403);
    expect((await s.send('DELETE', '/v2/secret/app/manifests/v1?ns=docker.io', { headers: as('mirror') })).status).toBe(403);
    // The scoped user deletes secret/app's tag v1 (absent: 404), never docker.io/secret/app's.
    expect((await s.send('DELETE', '/v2/secret/app/manifests/v1?ns=docker.io', { headers: as('scoped') })).status).toBe(404);
    expect((await s.send('DELETE', `/v2/secret/app/blobs/${upstream.layer}?ns=docker.io`, { headers: as('scoped') })).status).toBe(404);
    expect((await s.send('HEAD', '/v2/docker.io/secret/app/manifests/v1', { headers: as('admin') })).status).toBe(200);
    expect((await s.send('HEAD', `/v2/docker.io/secret/app/blobs/${upstream.layer}`, { headers: as('admin') })).status).toBe(200);
  });

  it('a mount needs pull on `from`: without it the client gets an upload session (202) and nothing is linked', async () => {
    for (const from of ['docker.io/secret/app', 'other/app']) {
      const blob = from === 'other/app' ? other.layer : upstream.layer;
      const a = await s.send('POST', `/v2/secret/mount/blobs/uploads/?mount=${blob}&from=${from}`, { headers: as('scoped') });
      expect([from, a.status]).toEqual([from, 202]);
      expect(a.headers.location).toMatch(/^\/v2\/secret\/mount\/blobs\/uploads\//);
      expect((await s.send('HEAD', `/v2/secret/mount/blobs/${blob}`, { headers: as('scoped') })).status).toBe(404);
    }
    // The same with a token that carries push on the target only.
    const jwt = await token('scoped', ['repository:secret/mount:pull,push', 'repository:other/app:pull']);
    expect(claims(jwt).access.map((a) => a.name)).toEqual(['secret/mount']);
    const viaToken = await s.send('POST', `/v2/secret/mount/blobs/uploads/?mount=${other.layer}&from=other/app`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(viaToken.status).toBe(202);
    // From a repository it may pull, the mount works.
    await pushImage(sendAs('scoped'), 'secret/src', 'v1', 'scoped source');
    const layer = sha256(Buffer.from(`layer of scoped source\n`.repeat(50)));
    const ok = await s.send('POST', `/v2/secret/mount/blobs/uploads/?mount=${layer}&from=secret/src`, { headers: as('scoped') });
    expect([ok.status, ok.headers['docker-content-digest']]).toEqual([201, layer]);
  });

  it('the 401 challenge of a mount asks for pull on `from` too, so a token client mounts without a pre-set scope', async () => {
    const path = `/v2/team/mounted/blobs/uploads/?mount=${other.layer}&from=other/app`;
    const { answer, scopes, granted } = await asTokenClient('admin', 'POST', path);
    expect(scopes).toEqual(['repository:team/mounted:pull,push', 'repository:other/app:pull']);
    expect(granted).toEqual(['repository:team/mounted:pull,push', 'repository:other/app:pull']);
    expect([answer.status, answer.headers['docker-content-digest']]).toEqual([201, other.layer]);
    // The scoped user following the same challenge gets no pull on other/app, and mounts nothing.
    const scoped = await asTokenClient('scoped', 'POST', `/v2/secret/mounted/blobs/uploads/?mount=${other.layer}&from=other/app`);
    expect(scoped.granted).toEqual(['repository:secret/mounted:pull,push']);
    expect(scoped.answer.status).toBe(202);
  });

  it('the catalog lists only repositories the caller may pull (Basic and token)', async () => {
    const list = async (headers: Record<string, string>, query = ''): Promise<string[]> =>
      (await s.send('GET', `/v2/_catalog${query}`, { headers })).json<{ repositories: string[] }>().repositories;
    const scoped = await list(as('scoped'));
    expect(scoped.length).toBeGreaterThan(0);
    expect(scoped.every((r) => r.startsWith('secret/'))).toBe(true);
    expect(await list(as('mirror'))).toEqual(['docker.io/secret/app', 'docker.io/secret/both']);
    const jwt = await token('scoped', ['registry:catalog:*']);
    expect(await list({ authorization: `Bearer ${jwt}` })).toEqual(scoped);
    // Paging from a hidden name shows nothing hidden either.
    expect((await list(as('scoped'), '?n=100&last=docker.io')).every((r) => r.startsWith('secret/'))).toBe(true);
  });

  it('the token endpoint grants exactly the names asked for that the users file allows: no patterns, no aliases, no over-long names', async () => {
    const jwt = await token('scoped', [
      'repository:docker.io/secret/app:pull',
      'repository:secret/*:pull',
      'repository:*:pull',
      `repository:secret/${'a'.repeat(300)}:pull`,
      'repository:secret/app:*',
      'repository:other/app:pull,push',
    ]);
    expect(claims(jwt).access).toEqual([{ type: 'repository', name: 'secret/app', actions: ['pull', 'push', 'delete'] }]);
  });
});
