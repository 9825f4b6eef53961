import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type FerryResult } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { sourceRefs } from '../helpers/transfer-kit.js';

// Every failure a user can cause: one line saying what happened (+ a hint), a
// distinct exit code, no stack trace unless --debug (design §5).

const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLineError(r: FerryResult, code: number, text: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('ferry: error:'));
  expect(errorLines).toHaveLength(1);
  expect(errorLines[0]).toMatch(text);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('usage errors (exit 2)', () => {
  it('an uppercase repository names the culprit and the fix', async () => {
    const r = await ferry(['export', 'MyRepo', '-o', join(dir, 'x.tar'), '--store', join(dir, 'store')]);
    expectOneLineError(r, 2, /repository names may contain only lowercase letters.*got 'MyRepo'/);
    expect(r.stderr).toMatch(/hint: use 'myrepo'/);
  });

  it('an unknown digest algorithm', async () => {
    const r = await ferry(['export', `nginx@md5:${'a'.repeat(32)}`, '-o', join(dir, 'x.tar'), '--store', join(dir, 'store')]);
    expectOneLineError(r, 2, /unsupported digest algorithm 'md5'/);
  });

  it('a missing signing key', async () => {
    const r = await ferry(['export', 'nginx', '-o', join(dir, 'x.tar'), '--sign', join(dir, 'nope.key'), '--store', join(dir, 'store')]);
    expectOneLineError(r, 2, /signing key .*nope\.key does not exist/);
    expect(r.stderr).toMatch(/hint: make a key pair with `ferry keygen/);
  });

  it('an unknown flag, and import with no destination', async () => {
    expectOneLineError(await ferry(['export', 'nginx', '-o', 'x', '--frobnicate']), 2, /unknown option --frobnicate/);
    expectOneLineError(await ferry(['import', join(dir, 'x.tar')]), 2, /say where images go/);
  });

  it('--debug adds the stack; --json puts the error on stdout as JSON', async () => {
    const debug = await ferry(['export', 'MyRepo', '-o', 'x', '--debug']);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^\s+at /m);
    const json = await ferry(['export', 'MyRepo', '-o', 'x', '--json']);
    expect(json.json).toMatchObject({ ok: false, error: { code: 'ERR_NAME_INVALID', exitCode: 2 } });
  });
});

describe.skipIf(!rigContext().available)('registry errors', () => {
  let basic: Registry;
  beforeAll(async () => {
    basic = await startRegistry({ auth: 'basic' });
  });
  afterAll(async () => basic?.stop());

  it('wrong credentials: exit 3', async () => {
    const r = await ferry(['inventory', basic.host, '-o', join(dir, 'inv.json'), '--plain-http', '--creds', `${basic.username}:wrong`]);
    expectOneLineError(r, 3, /user ferry was refused by .* to list its repositories: wrong user or password.*--creds/);
  });

  it('a valid user without the push right: exit 3, one line saying access was denied, nothing landed', async () => {
    const rig = seededRig();
    const tokens = await startRegistry({ auth: 'token', tokenOptions: { readers: { reader: 'reader-pass' } } });
    try {
      const [source] = sourceRefs(rig, ['appA']) as [string];
      const target = `${tokens.host}/denied/app-a:1.0`;
      const r = await ferry(['copy', source, target, '--plain-http', '--creds', 'reader:reader-pass']);
      expectOneLineError(r, 3, /user reader was refused by .* to push denied\/app-a: the credentials are valid but lack the role to push/);
      // The user with every right sees no such tag: nothing half-pushed got a name.
      const check = await ferry(['inventory', tokens.host, '-o', join(dir, 'denied-inv.json'), '--plain-http', '--creds', `${tokens.tokenServer?.username}:${tokens.tokenServer?.password}`]);
      expect(check.code, check.stderr).toBe(0);
      const inventory = JSON.parse(readFileSync(join(dir, 'denied-inv.json'), 'utf8')) as { images: unknown[] };
      expect(inventory.images).toEqual([]);
    } finally {
      await tokens.stop();
    }
  });

  it('an image that does not exist: exit 4', async () => {
    const rig = seededRig();
    const r = await ferry(['export', `${rig.source.host}/ferry-test/nope:1.0`, '-o', join(dir, 'x.tar'), '--plain-http', '--store', join(dir, 'store')]);
    expectOneLineError(r, 4, /ferry-test\/nope/);
  });

  it('nothing listening: exit 6', async () => {
    const r = await ferry(['export', '127.0.0.1:1/x/y:1', '-o', join(dir, 'x.tar'), '--plain-http', '--retries', '0', '--store', join(dir, 'store')]);
    expectOneLineError(r, 6, /127\.0\.0\.1:1/);
  });

  it('HTTPS to a plain-HTTP registry: exit 6 with a TLS hint', async () => {
    const rig = seededRig();
    const r = await ferry(['inventory', rig.source.host, '-o', join(dir, 'inv.json'), '--retries', '0']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/--plain-http/);
  });

  it('--trace records the exchanges with credentials redacted', async () => {
    const trace = join(dir, 'trace.jsonl');
    const r = await ferry(['inventory', basic.host, '-o', join(dir, 'inv.json'), '--plain-http', '--creds', `${basic.username}:${basic.password}`, '--trace', trace]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(trace, 'utf8');
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as { method: string; status: number });
    expect(records.length).toBeGreaterThan(1);
    expect(records.some((x) => x.method === 'GET' && x.status === 200)).toBe(true);
    expect(text).not.toContain(basic.password!);
    expect(text).not.toContain(Buffer.from(`${basic.username}:${basic.password}`).toString('base64'));
  });
});
