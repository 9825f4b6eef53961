import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_ORDER } from '../../src/doctor/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext } from '../rig/context.js';
import { freePort } from '../rig/free-port.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { CLI_ENV } from './helpers.js';

// The real binary: the --json document, the human table, and the exit codes
// (0 nothing failed; otherwise the first failure's category: 2, 3, 6).

describe.skipIf(!rigContext().available)('ferry doctor (CLI)', () => {
  let plain: Registry;
  let basic: Registry;
  let dir: string;

  beforeAll(async () => {
    [plain, basic] = await Promise.all([startRegistry({}), startRegistry({ auth: 'basic' })]);
    dir = await mkdtemp(join(tmpdir(), 'ferry-doctor-cli-'));
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), basic?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--json: one document on stdout, { registry, ok, exitCode, checks[{ name, status, detail }] }, exit 0', async () => {
    const r = await ferry(['doctor', plain.host, '--plain-http', '--push-test', 'doctor/cli', '--json'], { env: CLI_ENV });
    expect(r.code).toBe(0);
    const doc = r.json as { registry: string; ok: boolean; exitCode: number; checks: { name: string; status: string; detail: string; hint?: string }[] };
    expect(doc).toMatchObject({ registry: plain.host, ok: true, exitCode: 0 });
    expect(doc.checks.map((c) => c.name)).toEqual(CHECK_ORDER);
    for (const c of doc.checks) {
      expect(['ok', 'warn', 'fail', 'skip']).toContain(c.status);
      expect(typeof c.detail).toBe('string');
    }
    expect(doc.checks.find((c) => c.name === 'push')).toMatchObject({ status: 'ok' });
  });

  it('--json on a closed port: exit 6, ok false, the tcp failure with code and hint', async () => {
    const port = await freePort();
    const r = await ferry(['doctor', `127.0.0.1:${port}`, '--plain-http', '--json'], { env: CLI_ENV });
    expect(r.code).toBe(6);
    const doc = r.json as { ok: boolean; exitCode: number; checks: { name: string; status: string; code?: string; hint?: string }[] };
    expect(doc).toMatchObject({ ok: false, exitCode: 6 });
    expect(doc.checks.find((c) => c.name === 'tcp')).toMatchObject({ status: 'fail', code: 'ERR_NETWORK' });
    expect(doc.checks.find((c) => c.name === 'tcp')?.hint).toBeTruthy();
  });

  it('human table with a wrong password: the auth row fails with its hint, the summary names the exit code (3)', async () => {
    const r = await ferry(['doctor', basic.host, '--plain-http', '--creds', 'ferry:not-the-password-7731', '--push-test', 'doctor/cli'], { env: CLI_ENV });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^CHECK\s+STATUS\s+DETAIL$/m);
    expect(r.stdout).toMatch(new RegExp(`^auth\\s+FAIL\\s+basic \\(realm "ferry-test"\\): user ferry was refused by ${basic.host.replace(/\./g, '\\.')} \\(401\\)$`, 'm'));
    expect(r.stdout).toMatch(/^\s+hint: wrong user or password/m);
    expect(r.stdout).toMatch(/^push … redirect\s+skip\s+skipped: authentication failed$/m);
    expect(r.stdout).toContain(`${basic.host}: 1 check failed (exit 3: first failure auth)`);
    expect(r.stdout + r.stderr).not.toContain('not-the-password-7731');
  });

  it('the right password passes (exit 0), and --trace records the exchanges with credentials redacted', async () => {
    const trace = join(dir, 'trace.jsonl');
    const r = await ferry(['doctor', basic.host, '--plain-http', '--creds', `ferry:${basic.password ?? ''}`, '--trace', trace], { env: CLI_ENV });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${basic.host}: no check failed`);
    const text = await readFile(trace, 'utf8');
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as { url: string; requestHeaders: Record<string, string> });
    expect(records.some((x) => x.url.endsWith('/v2/') && x.requestHeaders.authorization === 'Basic REDACTED')).toBe(true);
    expect(text).not.toContain(basic.password ?? 'never');
  });

  it('bad flag values are usage errors (exit 2), before any check', async () => {
    const push = await ferry(['doctor', plain.host, '--plain-http', '--push-test', 'Bad/Repo'], { env: CLI_ENV });
    expect(push.code).toBe(2);
    expect(push.stderr).toContain("ferry: error: --push-test Bad/Repo: repository names may contain only lowercase");
    const ca = await ferry(['doctor', plain.host, '--ca-cert', join(dir, 'missing.pem')], { env: CLI_ENV });
    expect(ca.code).toBe(2);
    expect(ca.stderr).toContain('cannot read --ca-cert');
  });

  it('an invalid registry name exits 2 with the name check failed', async () => {
    const r = await ferry(['doctor', 'bad_host!', '--json'], { env: CLI_ENV });
    expect(r.code).toBe(2);
    expect((r.json as { checks: { name: string; status: string }[] }).checks[0]).toMatchObject({ name: 'name', status: 'fail' });
  });
});
