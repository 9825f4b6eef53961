import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { ferry } from '../helpers/ferry-cli.js';
import { errorLines, expectOk, expectRefusal, sourceRefs, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// What a user types by mistake gets the right exit code and a line that says
// what to do (issue 13 items 11, 14, 16): a folder where a bundle belongs is a
// usage error; a private key given to --key still verifies, with a warning;
// `-o -` means stdout for an inventory and is refused for a bundle; the
// output's folder is made for a split bundle; bundle.json records when the
// export ran, unless SOURCE_DATE_EPOCH asks for a reproducible one.

describe('a folder given as the bundle', () => {
  let work: WorkDir;
  beforeAll(async () => {
    work = await workDir('ferry-slips-');
    mkdirSync(work.path('not-a-bundle'));
  });
  afterAll(async () => {
    await work?.cleanup();
  });

  for (const command of [['verify'], ['inspect'], ['import', '--to-store', '--store', 'STORE']]) {
    it(`ferry ${command[0]}: exit 2 (usage), one line naming it`, async () => {
      const args = command.map((a) => (a === 'STORE' ? work.path('store') : a));
      const r = await ferry([args[0] as string, work.path('not-a-bundle'), ...args.slice(1)]);
      expectRefusal(r, ExitCode.usage, `bundle ${work.path('not-a-bundle')} is a directory`);
    });
  }
});

describe.skipIf(!rigContext().available)('keys, outputs and dates an operator gets wrong', () => {
  let work: WorkDir;
  const flags = () => ['--plain-http', '--store', work.path('store')];

  beforeAll(async () => {
    work = await workDir('ferry-slips-rig-');
    expectOk(await ferry(['keygen', '-o', work.path('site')]));
    expectOk(await ferry(['keygen', '-o', work.path('other')]));
    const [ref] = sourceRefs(seededRig());
    expectOk(await ferry(['export', ref as string, '-o', work.path('b.tar'), '--sign', work.path('site.key'), ...flags()]));
  });
  afterAll(async () => {
    await work?.cleanup();
  });

  it('verify --key NAME.key (the private key): verified with its public half, and a warning says so', async () => {
    const r = expectOk(await ferry(['verify', work.path('b.tar'), '--key', work.path('site.key')]));
    expect(r.stderr).toContain(`ferry: warning: --key ${work.path('site.key')} is a private (signing) key: verifying with its public half`);
    expect(r.stdout).toMatch(/signature: .*\(key /);
    // Another private key is still another key: refused as a signature by another key.
    const other = await ferry(['verify', work.path('b.tar'), '--key', work.path('other.key')]);
    expect(other.code, other.stderr).toBe(ExitCode.integrity);
    expect(errorLines(other.stderr).join('\n')).toMatch(/signed by|changed after signing/);
    // The public key gives no warning.
    expect(expectOk(await ferry(['verify', work.path('b.tar'), '--key', work.path('site.pub')])).stderr).not.toContain('warning');
  });

  it('export -o missing/dir/b.tar --split: the folder is made, the volumes written (not an internal error)', async () => {
    const [ref] = sourceRefs(seededRig());
    expectOk(await ferry(['export', ref as string, '-o', work.path('missing', 'dir', 'b.tar'), '--split', '1M', ...flags()]));
    expect(readdirSync(work.path('missing', 'dir')).filter((f) => /^b\.tar\.\d{3}$/.test(f)).length).toBeGreaterThan(0);
    expect(existsSync(work.path('missing', 'dir', 'b.tar.volumes.json'))).toBe(true);
  });

  it('export -o -: refused (2) before anything is pulled, naming what to do instead', async () => {
    const [ref] = sourceRefs(seededRig());
    const r = await ferry(['export', ref as string, '-o', '-', '--plain-http', '--store', work.path('fresh')]);
    expectRefusal(r, ExitCode.usage, '-o - is not supported by export');
    expect(existsSync('-')).toBe(false);
    expect(existsSync(work.path('fresh', 'blobs'))).toBe(false);
  });

  it('inventory -o -: the document on stdout, no file named -', async () => {
    const registry = seededRig().source;
    const cwd = work.path('inv');
    mkdirSync(cwd);
    const r = expectOk(await ferry(['inventory', registry.host, '-o', '-', '--plain-http'], { cwd }));
    const doc = JSON.parse(r.stdout) as { format: string; registry: string; blobs: unknown[] };
    expect(doc.format).toBe('ferry.inventory.v1');
    expect(doc.blobs.length).toBeGreaterThan(0);
    expect(readdirSync(cwd)).toEqual([]);
    expect((await ferry(['inventory', registry.host, '-o', '-', '--json', '--plain-http'], { cwd })).code).toBe(ExitCode.usage);
  });

  it('bundle.json records when the export ran; SOURCE_DATE_EPOCH makes it reproducible', async () => {
    const [ref] = sourceRefs(seededRig());
    const before = Math.floor(Date.now() / 1000) * 1000;
    expectOk(await ferry(['export', ref as string, '-o', work.path('now.tar'), ...flags()], { env: { SOURCE_DATE_EPOCH: '' } }));
    const created = Date.parse((expectOk(await ferry(['inspect', work.path('now.tar'), '--json'])).json as { created: string }).created);
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Date.now());
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    expectOk(await ferry(['export', ref as string, '-o', work.path('r1.tar'), ...flags()], { env }));
    expectOk(await ferry(['export', ref as string, '-o', work.path('r2.tar'), ...flags()], { env }));
    expect(readFileSync(work.path('r1.tar')).equals(readFileSync(work.path('r2.tar')))).toBe(true);
    expect((expectOk(await ferry(['inspect', work.path('r1.tar'), '--json'])).json as { created: string }).created).toBe('2023-11-14T22:13:20Z');
  });
});
