import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 11 item 5: two different images must never land silently on one tag.
// The bundle holds RIG/ferry-test/app-a:1.0 (A), RIG/ferry-test/app-b:1.0 (B),
// RIG/ferry-test/docker:1.0 (D), and from a second source registry S2
// S2/ferry-test/app-a:1.0 (A again) and S2/ferry-test/app-b:1.0 (A, not B).
// With `--to T/coll` both app-b land on T/coll/ferry-test/app-b:1.0: refused
// before a byte is pushed, exit 2, both sources named, --retag suggested. The
// two app-a are the same digest: not a collision.

const USAGE = 2;

describe.skipIf(!rigContext().available)('two different images on one target tag are refused before anything is pushed', () => {
  let work: WorkDir;
  let second: Registry;
  let target: Registry;
  let view: TargetView;
  const rigRef = (repo: string) => `${seededRig().source.host}/ferry-test/${repo}:1.0`;
  const s2Ref = (repo: string) => `${second.host}/ferry-test/${repo}:1.0`;
  const bundle = () => work.path('two-sources.tar');

  beforeAll(async () => {
    work = await workDir('ferry-tag-collisions-');
    [second, target] = await Promise.all([startRegistry(), startRegistry()]);
    view = new TargetView(target);
    // S2 holds app-a's image under both names.
    for (const repo of ['app-a', 'app-b']) expectOk(await ferry(['copy', rigRef('app-a'), s2Ref(repo), '--plain-http']));
    const refs = [rigRef('app-a'), rigRef('app-b'), rigRef('docker'), s2Ref('app-a'), s2Ref('app-b')];
    expectOk(await ferry(['export', ...refs, '-o', bundle(), '--no-with-referrers', '--plain-http', '--store', work.path('store')]));
  });

  afterAll(async () => {
    await view?.close();
    await Promise.all([second?.stop(), target?.stop()]);
    await work?.cleanup();
  });

  const importArgs = (...extra: string[]) => ['import', bundle(), '--plain-http', '--store', work.path('import-store'), ...extra];

  it('--to HOST/coll: exit 2 naming both sources of the tag and --retag; --dry-run says the same; nothing reaches the target', async () => {
    const landing = `${target.host}/coll/ferry-test/app-b:1.0`;
    const real = await ferry(importArgs('--to', `${target.host}/coll`));
    const line = expectRefusal(real, USAGE, landing, rigRef('app-b'), s2Ref('app-b'));
    // Same digest twice (the two app-a) is not a collision.
    expect(line).not.toContain(`${target.host}/coll/ferry-test/app-a:1.0`);
    expect(real.stderr).toMatch(/hint: .*--retag /);
    const dry = await ferry(importArgs('--to', `${target.host}/coll`, '--dry-run'));
    expect(expectRefusal(dry, USAGE, landing, rigRef('app-b'), s2Ref('app-b'))).toBe(line);
    expect(await view.catalog(), 'nothing was pushed').toEqual([]);
  });

  it('every collision of the plan is named at once, --retag and spec rules included', async () => {
    // docker (D) retagged onto coll/ferry-test/app-a, where A lands twice: a second colliding tag.
    const retag = `${seededRig().source.host}/ferry-test/docker=${target.host}/coll/ferry-test/app-a`;
    const r = await ferry(importArgs('--to', `${target.host}/coll`, '--retag', retag));
    expectRefusal(r, USAGE, `${target.host}/coll/ferry-test/app-b:1.0`, `${target.host}/coll/ferry-test/app-a:1.0`, rigRef('docker'), rigRef('app-a'));
    // The same two rules from a spec's retag list (import -f).
    const spec = work.path('collide.yaml');
    await writeFile(spec, `images: [${rigRef('app-a')}]\nretag:\n  - ${seededRig().source.host}/ferry-test/app-a=${target.host}/x/app\n  - ${seededRig().source.host}/ferry-test/app-b=${target.host}/x/app\n`);
    const fromSpec = await ferry(importArgs('--to', `${target.host}/coll`, '-f', spec));
    expectRefusal(fromSpec, USAGE, `${target.host}/x/app:1.0`, rigRef('app-a'), rigRef('app-b'));
    expect(await view.catalog()).toEqual([]);
  });

  it('once --retag gives the second source its own name, everything lands (the same digest twice included)', async () => {
    const r = expectOk(await ferry(importArgs('--to', `${target.host}/coll`, '--retag', `${second.host}/ferry-test/app-b=${target.host}/coll/s2/app-b`, '--json')));
    expect((r.json as { images: unknown[] }).images).toHaveLength(5);
    const rig = seededRig();
    expect((await view.manifest('coll/ferry-test/app-b', '1.0'))?.digest).toBe(rig.images.images.appB.digest);
    expect((await view.manifest('coll/s2/app-b', '1.0'))?.digest).toBe(rig.images.images.appA.digest);
    expect((await view.manifest('coll/ferry-test/app-a', '1.0'))?.digest).toBe(rig.images.images.appA.digest);
  });
});
