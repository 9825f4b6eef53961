import { chmod, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamRepositoryName } from '../../src/core/upstream-repository.js';
import type { StoreVerifyReport } from '../../src/store/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// `ferry store verify [--repair]` on a store a real export filled: a bad byte on
// disk is found (exit 5, the blob and the tags it breaks named), --repair drops it
// (exit 0), and the next export fetches exactly that blob again.

describe.skipIf(!rigContext().available)('ferry store verify', () => {
  let work: WorkDir;
  const store = () => work.path('store');
  const refs = () => {
    const rig = seededRig();
    return [rig.images.images.appA, rig.images.images.appB].map((i) => `${rig.source.host}/${i.reference}`);
  };
  const exportArgs = (out: string, ...extra: string[]) => ['export', ...refs(), '-o', work.path(out), '--plain-http', '--store', store(), ...extra];
  const verify = async (...extra: string[]) => {
    const r = await ferry(['store', 'verify', '--store', store(), ...extra]);
    return { ...r, report: (r.json ?? {}) as StoreVerifyReport };
  };

  beforeAll(async () => {
    work = await workDir('ferry-store-verify-');
    const r = await ferry(exportArgs('first.tar'));
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => work?.cleanup());

  it('finds a flipped byte, --repair drops it, and the next export fetches that blob again', async () => {
    const rig = seededRig();
    const { appA, appB } = rig.images.images;
    const clean = await verify('--json');
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.report).toMatchObject({ ok: true, index: [], blobs: { corrupt: [] } });
    expect(clean.report.blobs.checked).toBeGreaterThan(5);

    // The layer appA and appB share, damaged on disk.
    const shared = appA.blobs.find((b) => appB.blobs.some((o) => o.digest === b.digest) && b.mediaType.includes('layer'))!;
    const path = join(store(), 'blobs', 'sha256', shared.digest.slice(7));
    await chmod(path, 0o644);
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from('!'), 0, 1, Math.floor(shared.size / 2));
    await fh.close();

    const human = await verify();
    expect(human.code).toBe(5);
    expect(human.stdout).toContain(`corrupt blob ${shared.digest}: its bytes hash to sha256:`);
    const nameA = upstreamRepositoryName(rig.source.host, appA.repository);
    expect(human.stdout).toContain(`tag ${nameA}:1.0 does not reach complete content (missing ${shared.digest})`);
    expect(human.stdout).toContain(`ferry export ${rig.source.host}/${appA.repository}:1.0`);
    expect(human.stdout).toContain('ferry store verify --repair');

    const repaired = await verify('--repair', '--json');
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.report.blobs.corrupt).toMatchObject([{ digest: shared.digest, problem: 'digest', removed: true }]);
    expect(repaired.report.tags.incomplete.map((t) => `${t.repository}:${t.tag}`)).toEqual(
      expect.arrayContaining([`${nameA}:1.0`, `${upstreamRepositoryName(rig.source.host, appB.repository)}:1.0`]),
    );
    const ls = await ferry(['store', 'ls', '--store', store()]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain(`${appA.digest} (incomplete: export it again)`);
    expect((await verify()).code).toBe(5); // still incomplete until exported again

    const trace = work.path('trace.jsonl');
    const again = await ferry(exportArgs('second.tar', '--trace', trace));
    expect(again.code, again.stderr).toBe(0);
    const gets = (await readFile(trace, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { method: string; url: string; status: number });
    const layerGets = gets.filter((g) => g.method === 'GET' && g.url.includes('/blobs/') && g.status < 300).map((g) => g.url.slice(g.url.lastIndexOf('/') + 1));
    expect(layerGets).toEqual([shared.digest]);
    const whole = await verify('--json');
    expect(whole.code, whole.stdout).toBe(0);
    expect(whole.report.tags.incomplete).toEqual([]);
    expect((await ferry(['verify', work.path('second.tar')])).code).toBe(0);
  });
});
