import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { CLI_ENV } from '../doctor/helpers.js';

// Issue 13.2: -q/--quiet means errors only, for every command — decided in one
// place (cli/output.ts). A listing (ls, store ls, inspect) is what was asked for
// and still prints; --json still prints its one document.

const dir = mkdtempSync(join(tmpdir(), 'ferry-quiet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!rigContext().available)('--quiet', () => {
  let target: Registry;
  beforeAll(async () => {
    target = await startRegistry({});
  });
  afterAll(async () => target?.stop());

  const silent = (r: { code: number; stdout: string; stderr: string }): void => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  };

  it('export, verify, import and doctor print nothing when all goes well', async () => {
    const rig = seededRig();
    const bundle = join(dir, 'q.tar');
    const store = ['--store', join(dir, 'store')];
    silent(await ferry(['export', `${rig.source.host}/${rig.images.images.docker.reference}`, '-o', bundle, '--plain-http', ...store, '-q']));
    silent(await ferry(['verify', bundle, '--quiet']));
    silent(await ferry(['import', bundle, '--to', `${target.host}/q`, '--plain-http', ...store, '-q']));
    silent(await ferry(['doctor', target.host, '--plain-http', '-q'], { env: CLI_ENV }));
  });

  it('errors still show; listings and --json still print', async () => {
    const rig = seededRig();
    const missing = await ferry(['export', `${rig.source.host}/ferry-test/nope:1`, '-o', join(dir, 'x.tar'), '--plain-http', '--retries', '0', '--store', join(dir, 'store'), '-q']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/^ferry: error: /m);
    const ls = await ferry(['store', 'ls', '--store', join(dir, 'store'), '-q']);
    expect(ls.stdout).toMatch(/REPOSITORY/);
    const lsJson = await ferry(['store', 'ls', '--store', join(dir, 'store'), '--json']);
    expect(lsJson.json).toMatchObject({ ok: true, images: [{ tag: expect.any(String) }] });
    const json = await ferry(['verify', join(dir, 'q.tar'), '-q', '--json']);
    expect(json.json).toMatchObject({ ok: true });
  });
});
