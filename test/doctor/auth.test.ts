import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { check, doctor } from './helpers.js';

// Credentials against real docker-registry auth: htpasswd (basic) and the rig's
// JWT token issuer (bearer), with right, wrong and no credentials, and a push
// test that an anonymous pull-only token cannot pass.

describe.skipIf(!rigContext().available)('doctor: auth', () => {
  let basic: Registry;
  let token: Registry;
  let anonymous: Registry;
  let dir: string;

  beforeAll(async () => {
    [basic, token, anonymous] = await Promise.all([
      startRegistry({ auth: 'basic' }),
      startRegistry({ auth: 'token' }),
      startRegistry({ auth: 'token', tokenOptions: { anonymousPull: true } }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'ferry-doctor-auth-'));
  });
  afterAll(async () => {
    await Promise.all([basic?.stop(), token?.stop(), anonymous?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const basicCreds = () => ({ username: basic.username ?? '', password: basic.password ?? '' });

  it('basic auth with the right password: accepted, and the push test passes', async () => {
    const report = await doctor({ registry: basic.host, plainHttp: true, credentials: basicCreds(), pushTest: 'doctor/basic' });
    expect(check(report, 'ping').detail).toContain('→ 401, asks for basic');
    expect(check(report, 'auth')).toMatchObject({ status: 'ok', detail: 'basic (realm "ferry-test"): user ferry accepted' });
    expect(check(report, 'push').status).toBe('ok');
    expect(report.exitCode).toBe(0);
  });

  it('basic auth with a wrong password: auth fails (exit 3), push and redirect are skipped', async () => {
    const report = await doctor({ registry: basic.host, plainHttp: true, credentials: { username: 'ferry', password: 'wrong' }, pushTest: 'doctor/basic' });
    const auth = check(report, 'auth');
    expect(auth).toMatchObject({ status: 'fail', code: 'ERR_UNAUTHORIZED', exitCode: 3, detail: `basic (realm "ferry-test"): user ferry was refused by ${basic.host} (401)` });
    // The same words as a refused pull or push (refusals.ts refusedParts).
    expect(auth.hint).toBe(`wrong user or password, or an expired token; check --creds, --authfile (or REGISTRY_AUTH_FILE), or run ferry login ${basic.host} again`);
    expect(check(report, 'push')).toMatchObject({ status: 'skip', detail: 'skipped: authentication failed' });
    expect(check(report, 'clock').status).toBe('ok');
    expect(report).toMatchObject({ ok: false, exitCode: 3 });
  });

  it('credentials are found in an --authfile as ferry would find them', async () => {
    const authfile = join(dir, 'config.json');
    const auth = Buffer.from(`${basic.username ?? ''}:${basic.password ?? ''}`).toString('base64');
    await writeFile(authfile, JSON.stringify({ auths: { [basic.host]: { auth } } }));
    const report = await doctor({ registry: basic.host, plainHttp: true, authfile });
    expect(check(report, 'auth').status).toBe('ok');
  });

  it('no credentials at all: a warning, and --push-test fails with 401 and a "no credentials" hint (exit 3)', async () => {
    const report = await doctor({ registry: basic.host, plainHttp: true, pushTest: 'doctor/basic' });
    expect(check(report, 'auth')).toMatchObject({ status: 'warn', detail: `basic (realm "ferry-test"): anonymous access (no credentials) was refused by ${basic.host}` });
    expect(check(report, 'auth').hint).toContain(`no credentials found for ${basic.host}; pass --creds USER:PASS`);
    const push = check(report, 'push');
    expect(push).toMatchObject({ status: 'fail', code: 'ERR_UNAUTHORIZED', exitCode: 3 });
    expect(push.detail).toContain(`anonymous access (no credentials) was refused by ${basic.host} to push doctor/basic: no credentials found`);
    expect(report.exitCode).toBe(3);
  });

  it('bearer: the realm issues a token for the right password and the registry accepts it; push passes', async () => {
    const server = token.tokenServer;
    if (!server) throw new Error('token registry without token server');
    const before = server.stats().issued;
    const report = await doctor({ registry: token.host, plainHttp: true, credentials: { username: server.username, password: server.password }, pushTest: 'doctor/bearer' });
    expect(check(report, 'ping').detail).toContain('→ 401, asks for bearer');
    expect(check(report, 'auth')).toMatchObject({
      status: 'ok',
      detail: `bearer (realm ${server.realm}, service ${server.service}): token for user ${server.username} accepted, valid 300 s`,
    });
    expect(check(report, 'push').status).toBe('ok');
    expect(server.stats().issued).toBeGreaterThan(before);
    expect(server.stats().scopes).toContain('repository:doctor/bearer:pull');
    expect(server.stats().scopes).toContain('repository:doctor/bearer:pull,push');
    expect(report.exitCode).toBe(0);
  });

  it('bearer with a wrong password: the token service refuses it (exit 3)', async () => {
    const server = token.tokenServer;
    if (!server) throw new Error('token registry without token server');
    const report = await doctor({ registry: token.host, plainHttp: true, credentials: { username: server.username, password: 'wrong' } });
    const auth = check(report, 'auth');
    expect(auth).toMatchObject({ status: 'fail', code: 'ERR_UNAUTHORIZED', exitCode: 3 });
    expect(auth.detail).toContain(`user ${server.username} was refused by ${token.host} at its token service`);
    expect(auth.detail).toContain('401');
    expect(auth.hint).toContain('expired token');
    expect(report.exitCode).toBe(3);
  });

  it('bearer without credentials, realm refusing anonymous tokens: a warning', async () => {
    const report = await doctor({ registry: token.host, plainHttp: true });
    expect(check(report, 'auth').status).toBe('warn');
    expect(check(report, 'auth').detail).toContain(`anonymous access (no credentials) was refused by ${token.host} (its realm gives no anonymous token)`);
    expect(report.exitCode).toBe(0);
  });

  it('bearer, anonymous pull-only token: auth warns, and the push test fails on the real registry (exit 3)', async () => {
    const report = await doctor({ registry: anonymous.host, plainHttp: true, pushTest: 'doctor/anon' });
    expect(check(report, 'auth').status).toBe('warn');
    expect(check(report, 'auth').detail).toContain('an anonymous token was granted');
    const push = check(report, 'push');
    expect(push).toMatchObject({ status: 'fail', code: 'ERR_UNAUTHORIZED', exitCode: 3 });
    expect(push.detail).toContain(`anonymous access (no credentials) was refused by ${anonymous.host} to push doctor/anon`);
    expect(report.exitCode).toBe(3);
  });
});
