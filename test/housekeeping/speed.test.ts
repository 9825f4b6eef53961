import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpeedReport } from '../../src/doctor/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { revisions } from './site-kit.js';

// `ferry doctor REGISTRY --speed [SIZE]` against real docker-registries: the
// rows are there with plausible figures (never a particular speed), the
// scratch repository is ferry's and is removed — or the report says why not —
// and a user who may not push gets the push row failed with its role, not a stack.

type Speed = SpeedReport;
type Report = { exitCode: number; speed?: Speed };

const ROWS = ['push MiB/s', 'pull MiB/s', 'first-byte latency', 'speed cleanup'];

describe.skipIf(!rigContext().available)('ferry doctor --speed', () => {
  let basic: Registry;
  let noDelete: Registry;
  let tokens: Registry;

  beforeAll(async () => {
    [basic, noDelete, tokens] = await Promise.all([
      startRegistry({ auth: 'basic' }),
      startRegistry({ deleteEnabled: false }),
      startRegistry({ auth: 'token', tokenOptions: { readers: { reader: 'reader-pass' } } }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([basic?.stop(), noDelete?.stop(), tokens?.stop()]);
  });

  it('default 64 MiB: push, pull and first-byte rows with plausible figures; the scratch repository is removed', async () => {
    const r = expectOk(await ferry(['doctor', basic.host, '--plain-http', '--creds', `${basic.username}:${basic.password}`, '--speed', '--json']));
    const speed = (r.json as Report).speed as Speed;
    expect(speed.rows.map((x) => [x.name, x.status])).toEqual(ROWS.map((n) => [n, 'ok']));
    expect(speed.bytes).toBe(64 * 1024 * 1024);
    expect(speed.repository).toMatch(new RegExp(`^${basic.host}/ferry-speed-test/[0-9a-f]{12}$`));
    for (const figure of [speed.push?.mibPerSecond, speed.pull?.mibPerSecond, speed.push?.seconds, speed.pull?.seconds]) {
      expect(Number.isFinite(figure) && (figure ?? 0) > 0, String(figure)).toBe(true);
    }
    const firstByte = speed.pull?.firstByteMs ?? -1;
    expect(firstByte >= 0 && firstByte <= (speed.pull?.seconds ?? 0) * 1000 + 1).toBe(true);
    expect(speed.cleanup).toEqual({ manifestDeleted: true, blobsDeleted: 2, blobsLeft: 0 });
    expect(await revisions(basic.storageDir, speed.repository.slice(basic.host.length + 1))).toEqual([]);
  });

  it('the table gains the rows; with deletes turned off the cleanup row warns and says what was left (exit 0)', async () => {
    const r = expectOk(await ferry(['doctor', noDelete.host, '--plain-http', '--speed', '1M']));
    for (const name of ROWS) expect(r.stdout).toMatch(new RegExp(`^${name.replace('/', '\\/')}\\s+(ok|WARN)\\s`, 'm'));
    expect(r.stdout).toMatch(/^speed cleanup\s+WARN\s+could not remove 127\.0\.0\.1:\d+\/ferry-speed-test\/[0-9a-f]{12}: the registry has deletes turned off/m);
    expect(r.stdout).toMatch(/hint: distribution: set storage.delete.enabled: true/);
  });

  it('a user without push: the push row fails with the role it lacks (exit 3), the rest is skipped and nothing is left', async () => {
    const r = await ferry(['doctor', tokens.host, '--plain-http', '--creds', 'reader:reader-pass', '--speed', '1M', '--json']);
    expect(r.code, r.stderr).toBe(3);
    const speed = (r.json as Report).speed as Speed;
    expect(speed.rows.map((x) => x.status)).toEqual(['fail', 'skip', 'skip', 'skip']);
    expect(speed.rows[0]?.detail).toMatch(/user reader was refused by .* to push .*lack the role to push.*AcrPush/);
    expect(speed.rows[3]?.detail).toBe('nothing was written');
  });

  it('an unusable SIZE is a usage error naming --speed', async () => {
    const r = await ferry(['doctor', basic.host, '--plain-http', '--speed', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid --speed 'lots'");
  });
});
