import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { parseStoreReference } from '../../src/core/store-name.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// Issue 13.5: whatever ferry prints as a name in the store, every command that
// takes a store name accepts back (one parser: core/store-name.ts).

describe('parseStoreReference', () => {
  it('reads the store spelling, the upstream spelling and a leading slash as the same image', () => {
    expect(parseStoreReference('127.0.0.1_5301/acme/api:1.4.2')).toMatchObject({ candidates: ['127.0.0.1_5301/acme/api'], tag: '1.4.2' });
    expect(parseStoreReference('127.0.0.1:5301/acme/api:1.4.2').candidates).toEqual(['127.0.0.1_5301/acme/api', 'acme/api']);
    expect(parseStoreReference('/127.0.0.1_5301/acme/api').tag).toBe('latest');
    expect(parseStoreReference('nginx', { defaultTag: null }).tag).toBeUndefined();
    expect(parseStoreReference('nginx').candidates).toContain('docker.io/library/nginx');
  });
});

describe.skipIf(!rigContext().available)('store names round-trip', () => {
  let work: WorkDir;
  beforeAll(async () => {
    work = await workDir('ferry-store-names-');
  });
  afterAll(async () => work?.cleanup());

  it('each name store ls and import --to-store print is accepted back by store ls NAME and store rm', async () => {
    const rig = seededRig();
    const app = rig.images.images.appA;
    const exported = ['--store', work.path('store')];
    expectOk(await ferry(['export', `${rig.source.host}/${app.reference}`, '-o', work.path('b.tar'), '--plain-http', ...exported]));
    const listed = (expectOk(await ferry(['store', 'ls', '--json', ...exported])).json as { images: Array<{ repository: string; tag: string }> }).images;
    const names = listed.map((r) => `${r.repository}:${r.tag}`);
    expect(names).toContain(`${rig.source.host.replace(':', '_')}/${app.reference}`);

    const imported = ['--store', work.path('store2')];
    const table = expectOk(await ferry(['import', work.path('b.tar'), '--to-store', ...imported]));
    expect(table.stdout).not.toMatch(/(^|\s)\/\d/m);
    const printed = table.stdout.match(/\S+_\d+\/ferry-test\/app-a:1\.0/g) ?? [];
    expect(printed.length).toBeGreaterThan(0);

    for (const name of [...names, ...printed, `${rig.source.host}/${app.reference}`]) {
      const r = await ferry(['store', 'ls', name, '--json', ...exported]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect((r.json as { images: unknown[] }).images.length).toBe(1);
    }
    for (const name of printed) expectOk(await ferry(['store', 'ls', name, ...imported]));
    const storeName = `${rig.source.host.replace(':', '_')}/${app.reference}`;
    const removed = await ferry(['store', 'rm', storeName, ...exported]);
    expect(removed.code, removed.stderr).toBe(0);
    const gone = await ferry(['store', 'ls', storeName, ...exported]);
    expect(gone.code).toBe(ExitCode.notFound);
  });
});
