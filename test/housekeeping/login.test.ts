import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { run } from '../rig/peers.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { pushTiny } from './site-kit.js';

// `ferry login` / `ferry logout` against a real htpasswd docker-registry and a
// token registry: the credentials are checked before anything is stored; the
// file written is the one real skopeo and podman then authenticate with; other
// keys of the file survive; REGISTRY_AUTH_FILE and a credHelpers entry (a
// stand-in helper script speaking the docker-credential-helpers protocol) are
// honoured; the host is stored in lowercase.

type AuthDoc = { auths?: Record<string, { auth?: string }>; credHelpers?: Record<string, string>; [k: string]: unknown };

const readDoc = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as AuthDoc;

const HELPER = `#!/bin/sh
# docker-credential-helpers protocol, storing next to this script (test stand-in).
dir="$(dirname "$0")"
case "$1" in
  store) cat > "$dir/stored.json" ;;
  get) read url; if [ -f "$dir/stored.json" ]; then cat "$dir/stored.json"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) rm -f "$dir/stored.json" ;;
esac
`;

describe.skipIf(!rigContext().available)('ferry login / logout', () => {
  let work: WorkDir;
  let basic: Registry;
  let tokens: Registry;

  const skopeoInspect = (authfile: string, host = basic.host) => run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--authfile', authfile, `docker://${host}/shop/app:1.0`]);
  const loginArgs = (host: string, user: string, ...extra: string[]) => ['login', host, '--username', user, '--password-stdin', '--plain-http', ...extra];

  beforeAll(async () => {
    work = await workDir('ferry-login-');
    [basic, tokens] = await Promise.all([startRegistry({ auth: 'basic' }), startRegistry({ auth: 'token' })]);
    const http = new RegistryHttp(basic);
    await pushTiny(http, 'shop/app', 'login', ['1.0']);
    await http.close();
  }, 120_000);

  afterAll(async () => {
    await Promise.all([basic?.stop(), tokens?.stop()]);
    await work?.cleanup();
  });

  it('checks the password, writes the auths entry docker and podman write (0600), and skopeo and podman use it', async () => {
    const file = work.path('auth.json');
    const r = expectOk(await ferry(loginArgs(basic.host, 'ferry', '--authfile', file), { input: 'ferry-secret\n' }));
    expect(r.stdout).toContain(`login succeeded: ferry at ${basic.host}, stored in ${file}`);
    const doc = await readDoc(file);
    expect(doc.auths?.[basic.host]).toEqual({ auth: Buffer.from('ferry:ferry-secret').toString('base64') });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const empty = work.path('empty.json');
    await writeFile(empty, '{}');
    expect((await skopeoInspect(empty)).code, 'skopeo without the login').not.toBe(0);
    const inspected = await skopeoInspect(file);
    expect(inspected.code, inspected.stderr).toBe(0);
    const podman = await run('podman', ['login', '--get-login', '--authfile', file, basic.host]);
    expect(podman.code, podman.stderr).toBe(0);
    expect(podman.stdout.trim()).toBe('ferry');
    expectOk(await ferry(['ls', `${basic.host}/shop/app`, '--plain-http', '--authfile', file]));
  });

  it('a wrong password is refused by the registry before anything is stored (exit 3)', async () => {
    const file = work.path('wrong.json');
    const r = await ferry(loginArgs(basic.host, 'ferry', '--authfile', file), { input: 'not-it\n' });
    expectRefusal(r, 3, `${basic.host} refused the login of ferry`);
    expect(r.stderr).not.toContain('not-it');
    await expect(stat(file)).rejects.toThrow();
    const token = await ferry(loginArgs(tokens.host, 'ferry-user', '--authfile', file), { input: 'wrong\n' });
    expectRefusal(token, 3, 'refused the login');
    expectOk(await ferry(loginArgs(tokens.host, 'ferry-user', '--authfile', file), { input: 'ferry-pass\n' }));
    expect(Object.keys((await readDoc(file)).auths ?? {})).toEqual([tokens.host]);
  });

  it('REGISTRY_AUTH_FILE: other keys kept, a capitalised host stored in lowercase and the old spelling replaced; logout removes it', async () => {
    const file = work.path('podman', 'auth.json');
    await mkdir(join(work.dir, 'podman'));
    const upper = basic.host.replace('127.0.0.1', 'LOCALHOST');
    const lower = basic.host.replace('127.0.0.1', 'localhost');
    await writeFile(file, JSON.stringify({ auths: { 'other.example': { auth: 'b3RoZXI6b3RoZXI=' }, [upper]: { auth: 'b2xkOm9sZA==' } }, keep: { me: true } }));
    const env = { REGISTRY_AUTH_FILE: file };
    const r = expectOk(await ferry(loginArgs(upper, 'ferry'), { input: 'ferry-secret\n', env }));
    expect(r.stderr).toContain(`'${upper}' stored as ${lower}`);
    const doc = await readDoc(file);
    expect(Object.keys(doc.auths ?? {}).sort()).toEqual([lower, 'other.example']);
    expect(doc.keep).toEqual({ me: true });
    expect((await skopeoInspect(file, lower)).code).toBe(0);

    expect(expectOk(await ferry(['logout', lower], { env })).stdout).toContain(`removed the login of ${lower}`);
    expect(Object.keys((await readDoc(file)).auths ?? {})).toEqual(['other.example']);
    expect((await skopeoInspect(file, lower)).code).not.toBe(0);
    expect(expectOk(await ferry(['logout', lower], { env })).stdout).toContain(`not logged in to ${lower}`);
  });

  it('a credHelpers entry for the host: the helper stores the secret, the file keeps none, ferry reads it back; logout erases it', async () => {
    const bin = work.path('bin');
    await mkdir(bin);
    await writeFile(join(bin, 'docker-credential-ferrytest'), HELPER);
    await chmod(join(bin, 'docker-credential-ferrytest'), 0o755);
    const file = work.path('helper.json');
    await writeFile(file, JSON.stringify({ credHelpers: { [basic.host]: 'ferrytest' } }));
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const r = expectOk(await ferry(loginArgs(basic.host, 'ferry', '--authfile', file), { input: 'ferry-secret\n', env }));
    expect(r.stdout).toContain('credential helper ferrytest');
    expect(JSON.parse(await readFile(join(bin, 'stored.json'), 'utf8'))).toEqual({ ServerURL: basic.host, Username: 'ferry', Secret: 'ferry-secret' });
    expect(await readFile(file, 'utf8')).not.toContain(Buffer.from('ferry:ferry-secret').toString('base64'));
    expectOk(await ferry(['ls', `${basic.host}/shop/app`, '--plain-http', '--authfile', file], { env }));
    expectOk(await ferry(['logout', basic.host, '--authfile', file], { env }));
    await expect(stat(join(bin, 'stored.json'))).rejects.toThrow();
  });

  it('no password on the command line: without --password-stdin the command says how, and stores nothing (exit 2)', async () => {
    const r = await ferry(['login', basic.host, '--username', 'ferry', '--plain-http', '--authfile', work.path('none.json')]);
    expectRefusal(r, 2, '--password-stdin');
  });
});
