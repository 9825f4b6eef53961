import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseChallenges, parseCreds, resolveCredentials } from '../../src/registry/client/index.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Where credentials come from: --creds, --authfile, Docker config.json (auths,
// credHelpers, credsStore via a real helper program), podman auth.json — in that
// order — and the WWW-Authenticate parser that decides how they are used.

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('WWW-Authenticate', () => {
  test('bearer with a quoted comma inside scope', () => {
    const [c] = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push repository:c:pull"');
    expect(c).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push repository:c:pull' },
    });
  });

  test('several challenges, escapes, unquoted values, odd spacing', () => {
    const challenges = parseChallenges('Basic realm="Registry \\"quoted\\"" , Bearer realm=https://t.example/tok,error="insufficient_scope", scope="x:y:pull,push"');
    expect(challenges).toEqual([
      { scheme: 'basic', params: { realm: 'Registry "quoted"' } },
      { scheme: 'bearer', params: { realm: 'https://t.example/tok', error: 'insufficient_scope', scope: 'x:y:pull,push' } },
    ]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('Negotiate')).toEqual([{ scheme: 'negotiate', params: {} }]);
  });

  test('--creds splits at the first colon; <token> means an identity token', () => {
    expect(parseCreds('user:pa:ss')).toEqual({ username: 'user', password: 'pa:ss' });
    expect(parseCreds('<token>:eyJ')).toEqual({ identityToken: 'eyJ' });
    expect(() => parseCreds('nopassword')).toThrow(/USER:PASSWORD/);
  });
});

describe('credential sources', () => {
  let dir: string;
  let bin: string;
  const env = (extra: Record<string, string> = {}) => ({ PATH: `${bin}:${process.env.PATH ?? ''}`, ...extra });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-creds-'));
    bin = join(dir, 'bin');
    await mkdir(bin);
    // A real credential helper program speaking the docker-credential-helpers protocol.
    await writeFile(
      join(bin, 'docker-credential-ferrytest'),
      [
        '#!/bin/sh',
        '[ "$1" = get ] || exit 2',
        'read -r host',
        `echo "$host" >> "${join(dir, 'helper-calls')}"`,
        'case "$host" in',
        '  helped.example:5000) echo \'{"ServerURL":"helped.example:5000","Username":"helper-user","Secret":"helper-pass"}\' ;;',
        '  token.example) echo \'{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-me"}\' ;;',
        '  https://index.docker.io/v1/) echo \'{"ServerURL":"https://index.docker.io/v1/","Username":"hubber","Secret":"hubpass"}\' ;;',
        '  *) echo "credentials not found in native keychain"; exit 1 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    await chmod(join(bin, 'docker-credential-ferrytest'), 0o755);
    await mkdir(join(dir, 'docker'));
    await writeFile(
      join(dir, 'docker', 'config.json'),
      JSON.stringify({
        auths: {
          'docker-basic.example': { auth: b64('dockeruser:dockerpass') },
          'https://fields.example/v1/': { username: 'fielduser', password: 'fieldpass' },
          'identity.example': { auth: '', identitytoken: 'id-token-1' },
          'both.example': { auth: b64('from-docker:x') },
        },
        credHelpers: { 'helped.example:5000': 'ferrytest', 'token.example': 'ferrytest' },
      }),
    );
    await writeFile(join(dir, 'podman-auth.json'), JSON.stringify({ auths: { 'podman.example': { auth: b64('podmanuser:podmanpass') }, 'both.example': { auth: b64('from-podman:y') } } }));
    await mkdir(join(dir, 'run', 'containers'), { recursive: true });
    await writeFile(join(dir, 'run', 'containers', 'auth.json'), JSON.stringify({ auths: { 'runtime.example': { auth: b64('rtuser:rtpass') } } }));
    await writeFile(join(dir, 'store-config.json'), JSON.stringify({ auths: { 'docker.io': {} }, credsStore: 'ferrytest' }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const resolve = (registry: string, extra: Partial<Parameters<typeof resolveCredentials>[1]> = {}) =>
    resolveCredentials(registry, { env: env({ DOCKER_CONFIG: join(dir, 'docker'), REGISTRY_AUTH_FILE: join(dir, 'podman-auth.json'), XDG_RUNTIME_DIR: join(dir, 'run') }), homeDir: dir, ...extra });

  test('Docker config.json: base64 auth, username/password with a URL key, identitytoken', async () => {
    expect(await resolve('docker-basic.example')).toEqual({ username: 'dockeruser', password: 'dockerpass' });
    expect(await resolve('fields.example')).toEqual({ username: 'fielduser', password: 'fieldpass' });
    expect(await resolve('identity.example')).toEqual({ identityToken: 'id-token-1' });
  });

  test('credHelpers run docker-credential-NAME with the host on stdin', async () => {
    expect(await resolve('helped.example:5000')).toEqual({ username: 'helper-user', password: 'helper-pass' });
    expect(await resolve('token.example')).toEqual({ identityToken: 'refresh-me' });
    expect(await readFile(join(dir, 'helper-calls'), 'utf8')).toContain('helped.example:5000\n');
  });

  test('credsStore, with the Docker Hub key quirk', async () => {
    const found = await resolveCredentials('docker.io', { env: env(), authfile: join(dir, 'store-config.json') });
    expect(found).toEqual({ username: 'hubber', password: 'hubpass' });
    expect(await readFile(join(dir, 'helper-calls'), 'utf8')).toContain('https://index.docker.io/v1/\n');
  });

  test('precedence: --creds, then --authfile alone, then Docker, then podman files', async () => {
    expect(await resolve('both.example', { credentials: { username: 'flag', password: 'f' } })).toEqual({ username: 'flag', password: 'f' });
    expect(await resolve('both.example')).toEqual({ username: 'from-docker', password: 'x' });
    expect(await resolve('podman.example')).toEqual({ username: 'podmanuser', password: 'podmanpass' });
    expect(await resolve('runtime.example')).toEqual({ username: 'rtuser', password: 'rtpass' });
    // An explicit --authfile is the only file read.
    expect(await resolve('docker-basic.example', { authfile: join(dir, 'podman-auth.json') })).toBeUndefined();
    expect(await resolve('nowhere.example')).toBeUndefined();
    await expect(resolve('x.example', { authfile: join(dir, 'missing.json') })).rejects.toThrow(/cannot read auth file/);
  });

  test('a broken auth file is refused without echoing its content', async () => {
    await writeFile(join(dir, 'broken.json'), '{"auths": {"x": {"auth": "c2VjcmV0LXZhbHVl"');
    const err = await resolve('x', { authfile: join(dir, 'broken.json') }).catch((e: unknown) => e as Error);
    expect(String(err)).toMatch(/not valid JSON/);
    expect(String(err)).not.toContain('c2VjcmV0');
  });

  describe.skipIf(!rigContext().available)('against a real basic-auth registry', () => {
    let registry: Registry;
    beforeAll(async () => {
      registry = await startRegistry({ auth: 'basic', username: 'helped', password: 'from-helper' });
    });
    afterAll(async () => {
      await registry?.stop();
    });

    test('credentials from a credential helper open the registry', async () => {
      const { createRegistryClient } = await import('../../src/registry/client/index.js');
      await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'rigtest' } }));
      await writeFile(join(bin, 'docker-credential-rigtest'), `#!/bin/sh\nread -r host\necho '{"ServerURL":"'$host'","Username":"helped","Secret":"from-helper"}'\n`);
      await chmod(join(bin, 'docker-credential-rigtest'), 0o755);
      const client = createRegistryClient({ registry: registry.host, plainHttp: true, env: env({ DOCKER_CONFIG: join(dir, 'docker') }), homeDir: dir });
      try {
        expect(await client.ping()).toBe('basic');
        const tags: string[] = [];
        for await (const t of client.repository('empty/repo').tags()) tags.push(t);
        expect(tags).toEqual([]);
      } finally {
        await client.close();
      }
    });
  });
});
