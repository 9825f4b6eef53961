import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type FerryResult } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, sourceRefs } from '../helpers/transfer-kit.js';
import { startFerryServe, type FerryServe } from '../k8s/ferry-serve-process.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 13.9: a refused request is one line naming who was refused, by which
// registry, for which action on which repository, and what to check — never the
// raw `HEAD https://…/blobs/sha256:…: 401` (that stays in --json's details).
// Against a real htpasswd docker-registry and a real `ferry serve --users`.

const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No login of the machine running the tests may leak in.
const env = { HOME: dir, REGISTRY_AUTH_FILE: '', XDG_RUNTIME_DIR: dir, DOCKER_CONFIG: join(dir, 'docker') };
const run = (args: readonly string[]): Promise<FerryResult> => ferry(args, { env });

/** One error line, exit 3, naming every culprit, and no raw request line. */
function expectRefused(r: FerryResult, ...culprits: string[]): string {
  const line = expectRefusal(r, 3, ...culprits);
  expect(line).not.toMatch(/\b(HEAD|GET|PUT|POST|PATCH|DELETE) https?:\/\//);
  return line;
}

const WRONG = /wrong user or password, or an expired token; check --creds, --authfile \(or REGISTRY_AUTH_FILE\), or run ferry login/;
const NONE = /no credentials found for .*; pass --creds USER:PASS or --authfile FILE \(or set REGISTRY_AUTH_FILE\), or run ferry login/;

describe.skipIf(!rigContext().available)('refusal messages', () => {
  let basic: Registry;
  let served: FerryServe;
  let bundle: string;
  let source: string;
  const users = join(dir, 'users.yaml');

  beforeAll(async () => {
    const rig = seededRig();
    [source] = sourceRefs(rig, ['appA']) as [string];
    basic = await startRegistry({ auth: 'basic' });
    const good = `${basic.username}:${basic.password}`;
    expectOk(await run(['copy', source, `${basic.host}/acme/app:1.0`, '--plain-http', '--creds', good]));
    bundle = join(dir, 'b.tar');
    expectOk(await run(['export', source, '-o', bundle, '--plain-http', '--store', join(dir, 'store')]));
    expectOk(await run(['serve', 'users', 'add', 'admin', '--users', users, '--access', '*=pull,push,delete', '--password', 'admin-pw']));
    expectOk(await run(['serve', 'users', 'add', 'reader', '--users', users, '--access', '*=pull', '--password', 'reader-pw']));
    served = await startFerryServe(join(dir, 'served-store'), ['--users', users]);
    expectOk(await run(['copy', source, `${served.address}/acme/app:1.0`, '--plain-http', '--creds', 'admin:admin-pw']));
  });
  afterAll(async () => {
    await served?.stop();
    await basic?.stop();
  });

  describe('a wrong password (htpasswd docker-registry)', () => {
    const wrong = (): string[] => ['--plain-http', '--creds', `${basic.username}:wrong`];

    it('export: the user, the registry, pull of the repository, what to check', async () => {
      const r = await run(['export', `${basic.host}/acme/app:1.0`, '-o', join(dir, 'x.tar'), '--store', join(dir, 'store-x'), ...wrong()]);
      const line = expectRefused(r, `user ${basic.username} was refused by ${basic.host} to pull acme/app`);
      expect(line).toMatch(WRONG);
    });

    it('import: push of the repository the bundle lands in', async () => {
      const r = await run(['import', bundle, '--to', basic.host, ...wrong()]);
      expect(expectRefused(r, `user ${basic.username} was refused by ${basic.host} to push ferry-test/app-a`)).toMatch(WRONG);
    });

    it('copy, ls and rm', async () => {
      const copy = await run(['copy', source, `${basic.host}/acme/copied:1.0`, ...wrong()]);
      expect(expectRefused(copy, `user ${basic.username} was refused by ${basic.host} to push acme/copied`)).toMatch(WRONG);
      const ls = await run(['ls', `${basic.host}/acme/app`, ...wrong()]);
      expect(expectRefused(ls, `user ${basic.username} was refused by ${basic.host} to pull acme/app`)).toMatch(WRONG);
      const rm = await run(['rm', `${basic.host}/acme/app:1.0`, ...wrong()]);
      expect(expectRefused(rm, `user ${basic.username} was refused by ${basic.host}`, 'acme/app')).toMatch(WRONG);
    });

    it('--json and --debug keep the raw request line in the error details', async () => {
      const r = await run(['ls', `${basic.host}/acme/app`, ...wrong(), '--json']);
      expect(r.code).toBe(3);
      const doc = r.json as { error: { code: string; message: string; details: { request: string; who: string; registry: string } } };
      expect(doc.error.code).toBe('ERR_UNAUTHORIZED');
      expect(doc.error.details).toMatchObject({ who: `user ${basic.username}`, registry: basic.host, repository: 'acme/app', action: 'pull' });
      expect(doc.error.details.request).toMatch(new RegExp(`^GET http://${basic.host.replace(/\./g, '\\.')}/v2/acme/app/tags/list.*: 401`));
      expect(doc.error.message).not.toContain('http://');
      // --debug shows it under the line.
      const debug = await run(['ls', `${basic.host}/acme/app`, ...wrong(), '--debug']);
      expect(debug.stderr).toMatch(new RegExp(`^  details: .*"request":"GET http://${basic.host.replace(/\./g, '\\.')}/v2/acme/app/tags/list`, 'm'));
    });
  });

  describe('no credentials', () => {
    it('export, import and ls: anonymous access, where to put credentials', async () => {
      const exp = await run(['export', `${basic.host}/acme/app:1.0`, '-o', join(dir, 'y.tar'), '--store', join(dir, 'store-y'), '--plain-http']);
      expect(expectRefused(exp, `anonymous access (no credentials) was refused by ${basic.host} to pull acme/app`)).toMatch(NONE);
      const imp = await run(['import', bundle, '--to', basic.host, '--plain-http']);
      expect(expectRefused(imp, `anonymous access (no credentials) was refused by ${basic.host} to push ferry-test/app-a`)).toMatch(NONE);
      const ls = await run(['ls', basic.host, '--plain-http']);
      expect(expectRefused(ls, `anonymous access (no credentials) was refused by ${basic.host}`)).toMatch(NONE);
    });
  });

  describe('a user lacking the role (ferry serve --users, pull only)', () => {
    const reader = (): string[] => ['--plain-http', '--creds', 'reader:reader-pw'];

    it('may pull: ls works', async () => {
      expectOk(await run(['ls', `${served.address}/acme/app`, ...reader()]));
    });

    it('import and copy: refused to push, naming the role to ask for', async () => {
      const imp = await run(['import', bundle, '--to', served.address, ...reader()]);
      expect(expectRefused(imp, `user reader was refused by ${served.address} to push ferry-test/app-a`)).toMatch(/the credentials are valid but lack the role to push \(ACR: AcrPush.*ferry serve: push in the users file\)/);
      const copy = await run(['copy', source, `${served.address}/acme/copied:1.0`, ...reader()]);
      expectRefused(copy, `user reader was refused by ${served.address} to push acme/copied`, 'AcrPush');
    });

    it('rm: refused to delete, naming AcrDelete', async () => {
      const rm = await run(['rm', `${served.address}/acme/app:1.0`, ...reader()]);
      expectRefused(rm, `user reader was refused by ${served.address} to delete acme/app`, 'lack the role to delete', 'AcrDelete');
    });
  });
});
