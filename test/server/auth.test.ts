import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/digest.js';
import { addUser } from '../../src/registry/server/index.js';
import { manualClock } from '../helpers/manual-clock.js';
import { rigContext, seededRig } from '../rig/context.js';
import { run } from '../rig/peers.js';
import { basicAuth, pushImage, serve, sha256, type Served } from './harness.js';

// Users file + Basic + bearer tokens, with real skopeo logging in through the
// token endpoint, and raw HTTP for the exact statuses and challenges.

const PW = { admin: 'admin-secret', reader: 'reader-secret', teama: 'team-a-secret' } as const;

async function token(s: Served, auth: string | undefined, scope: string): Promise<{ status: number; token: string; body: Record<string, unknown> }> {
  const a = await s.send('GET', `/token?service=ferry&scope=${encodeURIComponent(scope)}`, { headers: auth ? { authorization: auth } : {} });
  const body = a.status === 200 ? a.json() : {};
  return { status: a.status, token: String(body.token ?? ''), body };
}

function claims(jwt: string): { sub: string; access: Array<{ name: string; actions: string[] }> } {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string; access: Array<{ name: string; actions: string[] }> };
}

describe('auth', () => {
  let dir: string;
  let usersFile: string;
  let s: Served;
  const clock = manualClock();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-serve-auth-'));
    usersFile = join(dir, 'users.yaml');
    await addUser(usersFile, 'admin', PW.admin, [{ pattern: '*', roles: ['pull', 'push', 'delete'] }]);
    await addUser(usersFile, 'reader', PW.reader, [{ pattern: '*', roles: ['pull'] }]);
    await addUser(usersFile, 'teama', PW.teama, [{ pattern: 'team-a/*', roles: ['pull', 'push'] }]);
    s = await serve({ users: usersFile, clock: clock.now });
  });
  afterAll(async () => {
    await s?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the users file holds scrypt hashes, never the passwords', async () => {
    const text = await readFile(usersFile, 'utf8');
    for (const pw of Object.values(PW)) expect(text).not.toContain(pw);
    expect(text.match(/passwordHash: scrypt\$/g)).toHaveLength(3);
  });

  it('anonymous requests get 401 with a Bearer challenge naming the realm, service and scope', async () => {
    const ping = await s.send('GET', '/v2/');
    expect(ping.status).toBe(401);
    expect(ping.headers['www-authenticate']).toBe(`Bearer realm="${s.server.url}/token",service="ferry"`);
    const get = await s.send('GET', '/v2/team-a/app/manifests/v1');
    expect([get.status, get.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(get.headers['www-authenticate']).toContain('scope="repository:team-a/app:pull"');
    const push = await s.send('POST', '/v2/team-a/app/blobs/uploads/');
    expect(push.headers['www-authenticate']).toContain('scope="repository:team-a/app:pull,push"');
    expect((await token(s, undefined, 'repository:team-a/app:pull')).status).toBe(401);
  });

  it('wrong passwords get 401 with a challenge, on the API and at the token endpoint', async () => {
    const a = await s.send('GET', '/v2/', { headers: { authorization: basicAuth('admin', 'wrong') } });
    expect([a.status, a.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(a.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expect((await s.send('GET', '/v2/', { headers: { authorization: basicAuth('nobody', 'x') } })).status).toBe(401);
    expect((await token(s, basicAuth('admin', 'wrong'), 'repository:x:pull')).status).toBe(401);
  });

  it('Basic credentials work on every request; a pull-only user is refused a push with 403 DENIED', async () => {
    const admin = { authorization: basicAuth('admin', PW.admin) };
    const reader = { authorization: basicAuth('reader', PW.reader) };
    const { digest } = await pushImage({ send: (m, p, o) => s.send(m, p, { ...o, headers: { ...o?.headers, ...admin } }) }, 'team-a/app', 'v1', 'auth-app');
    const get = await s.send('GET', `/v2/team-a/app/manifests/${digest}`, { headers: reader });
    expect(get.status).toBe(200);
    const push = await s.send('POST', '/v2/team-a/app/blobs/uploads/', { headers: reader });
    expect([push.status, push.code]).toEqual([403, 'DENIED']);
    const del = await s.send('DELETE', `/v2/team-a/app/manifests/${digest}`, { headers: reader });
    expect([del.status, del.code]).toEqual([403, 'DENIED']);
  });

  it('the token endpoint grants only the roles the users file gives, and tokens are honoured', async () => {
    const reader = await token(s, basicAuth('reader', PW.reader), 'repository:team-a/app:pull,push');
    expect(reader.status).toBe(200);
    expect(reader.body.access_token).toBe(reader.token);
    expect(reader.body.expires_in).toBe(900);
    expect(typeof reader.body.issued_at).toBe('string');
    expect(claims(reader.token).access).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull'] }]);
    const bearer = { authorization: `Bearer ${reader.token}` };
    expect((await s.send('GET', '/v2/team-a/app/tags/list', { headers: bearer })).status).toBe(200);
    // Pushing with a token the user cannot widen: 403, not an endless 401 loop.
    const push = await s.send('POST', '/v2/team-a/app/blobs/uploads/', { headers: bearer });
    expect([push.status, push.code]).toEqual([403, 'DENIED']);
    // A token scoped to another repository: 401 insufficient_scope, so the client fetches a new one.
    expect((await s.send('GET', '/v2/team-a/other/tags/list', { headers: bearer })).headers['www-authenticate']).toContain('error="insufficient_scope"');
    const teama = await token(s, basicAuth('teama', PW.teama), 'repository:team-a/app:pull,push repository:team-b/app:pull,push');
    expect(claims(teama.token).access).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] }]);
  });

  it('the OAuth2 POST form (containerd) issues tokens too', async () => {
    const form = new URLSearchParams({ grant_type: 'password', username: 'admin', password: PW.admin, service: 'ferry', scope: 'repository:team-a/app:pull', client_id: 'containerd-client' });
    const a = await s.send('POST', '/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(a.status).toBe(200);
    expect(claims(String(a.json().access_token)).sub).toBe('admin');
    form.set('password', 'wrong');
    expect((await s.send('POST', '/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })).status).toBe(401);
  });

  it('forged and foreign tokens are refused with invalid_token', async () => {
    const good = (await token(s, basicAuth('admin', PW.admin), 'repository:team-a/app:pull')).token;
    const [h, p] = good.split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ ...claims(good), sub: 'admin', access: [{ type: 'repository', name: 'team-b/x', actions: ['push'] }] })).toString('base64url');
    for (const bad of [`${h}.${forgedClaims}.${good.split('.')[2]}`, `${h}.${p}.AAAA`, 'not-a-token']) {
      const a = await s.send('GET', '/v2/', { headers: { authorization: `Bearer ${bad}` } });
      expect(a.status).toBe(401);
      expect(a.headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });

  it('the catalog lists only repositories the caller may pull', async () => {
    const admin = { authorization: basicAuth('admin', PW.admin) };
    await pushImage({ send: (m, p, o) => s.send(m, p, { ...o, headers: { ...o?.headers, ...admin } }) }, 'team-b/app', 'v1', 'team-b');
    const teama = await s.send('GET', '/v2/_catalog', { headers: { authorization: basicAuth('teama', PW.teama) } });
    expect(teama.json<{ repositories: string[] }>().repositories).toEqual(['team-a/app']);
    const all = await s.send('GET', '/v2/_catalog', { headers: admin });
    expect(all.json<{ repositories: string[] }>().repositories).toEqual(['team-a/app', 'team-b/app']);
    expect((await s.send('GET', '/v2/_catalog')).status).toBe(401);
  });

  it('a user added to the file while the server runs can log in without a restart', async () => {
    await addUser(usersFile, 'late', 'late-secret', [{ pattern: '*', roles: ['pull'] }]);
    const late = async () => (await s.send('GET', '/v2/', { headers: { authorization: basicAuth('late', 'late-secret') } })).status;
    expect(await late()).toBe(401); // the file is looked at again at most every 2 s
    clock.advance(2_001);
    expect(await late()).toBe(200);
  });

  it('the request log names the user and never a credential', async () => {
    const entries = s.log.filter((e) => e.user === 'admin');
    expect(entries.length).toBeGreaterThan(0);
    const text = JSON.stringify(s.log);
    for (const pw of Object.values(PW)) expect(text).not.toContain(pw);
    expect(text).not.toMatch(/Basic |Bearer /);
  });

  describe.skipIf(!rigContext().available)('with skopeo', () => {
    it('skopeo --dest-creds pushes through the token endpoint; a pull-only user cannot push', async () => {
      const rig = seededRig();
      const image = rig.images.images.appB;
      const dest = `docker://${s.server.address}/team-a/app-b:1.0`;
      const src = `docker://${rig.source.host}/${image.reference}`;
      const denied = await run('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', `reader:${PW.reader}`, src, dest]);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/denied|403/i);
      const before = s.log.length;
      const ok = await run('skopeo', ['--insecure-policy', 'copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', `teama:${PW.teama}`, src, dest]);
      expect(ok.code, ok.stderr).toBe(0);
      const fresh = s.log.slice(before);
      expect(fresh.some((e) => e.path === '/token' && e.status === 200)).toBe(true);
      expect(fresh.filter((e) => e.method === 'PUT' && e.path.includes('/manifests/')).every((e) => e.user === 'teama')).toBe(true);
      const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', `reader:${PW.reader}`, `docker://${s.server.address}/team-a/app-b:1.0`]);
      expect(digestOf(raw.stdout)).toBe(image.digest);
      const anon = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${s.server.address}/team-a/app-b:1.0`]);
      expect(anon.code).not.toBe(0);
      const wrong = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', 'reader:wrong', `docker://${s.server.address}/team-a/app-b:1.0`]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/unauthorized|401/i);
    });
  });
});

describe('anonymous pull', () => {
  it('when enabled, anonymous clients pull (through an anonymous token) but cannot push', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-anon-'));
    const usersFile = join(dir, 'users.json');
    await addUser(usersFile, 'admin', PW.admin, [{ pattern: '*', roles: ['pull', 'push'] }]);
    expect(JSON.parse(await readFile(usersFile, 'utf8')).users[0].name).toBe('admin');
    const s = await serve({ users: usersFile, anonymousPull: true });
    try {
      const admin = { authorization: basicAuth('admin', PW.admin) };
      const { digest } = await pushImage({ send: (m, p, o) => s.send(m, p, { ...o, headers: { ...o?.headers, ...admin } }) }, 'pub/app', 'v1', 'public');
      const anon = await token(s, undefined, 'repository:pub/app:pull,push');
      expect(anon.status).toBe(200);
      expect(claims(anon.token)).toMatchObject({ sub: '', access: [{ name: 'pub/app', actions: ['pull'] }] });
      const bearer = { authorization: `Bearer ${anon.token}` };
      expect((await s.send('GET', `/v2/pub/app/manifests/${digest}`, { headers: bearer })).status).toBe(200);
      expect((await s.send('GET', `/v2/pub/app/manifests/${digest}`)).status).toBe(200);
      const push = await s.send('POST', '/v2/pub/app/blobs/uploads/', { headers: bearer });
      expect(push.status).toBe(401);
      if (rigContext().available) {
        const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${s.server.address}/pub/app:v1`]);
        expect(raw.code, raw.stderr).toBe(0);
        expect(sha256(raw.stdout)).toBe(digest);
      }
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a users file with a plain-text password is refused at start-up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-plain-'));
    const usersFile = join(dir, 'users.yaml');
    await writeFile(usersFile, 'users:\n  - name: bob\n    password: hunter2\n    access: [{ pattern: "*", roles: [pull] }]\n');
    await expect(serve({ users: usersFile })).rejects.toThrow(/passwordHash/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('basic challenge', () => {
  it('with challenge: basic, anonymous clients are asked for Basic credentials', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-basic-'));
    const usersFile = join(dir, 'users.yaml');
    await addUser(usersFile, 'admin', PW.admin, [{ pattern: '*', roles: ['pull', 'push'] }]);
    const s = await serve({ users: usersFile, challenge: 'basic' });
    try {
      const a = await s.send('GET', '/v2/');
      expect(a.status).toBe(401);
      expect(a.headers['www-authenticate']).toBe('Basic realm="ferry"');
      expect((await s.send('GET', '/v2/', { headers: { authorization: basicAuth('admin', PW.admin) } })).status).toBe(200);
      if (rigContext().available) {
        const rig = seededRig();
        const ok = await run('skopeo', ['--insecure-policy', 'copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', `admin:${PW.admin}`,
          `docker://${rig.source.host}/${rig.images.images.docker.reference}`, `docker://${s.server.address}/basic/docker:1.0`]);
        expect(ok.code, ok.stderr).toBe(0);
        expect(s.log.some((e) => e.path === '/token')).toBe(false);
      }
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
