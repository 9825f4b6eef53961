import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands } from '../../src/cli/commands/index.js';
import { ExitCode } from '../../src/core/errors.js';
import { parsePlatformList } from '../../src/core/platform.js';
import { ferry } from '../helpers/ferry-cli.js';
import { workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// Issue 13.7/7b: a repeatable flag takes one value per occurrence (never the
// image references after it), --platform also takes a comma list, and an image
// without the asked platform is refused whether it is an index or not.

describe('repeatable flags', () => {
  it('every array flag of every command takes one value each time (nargs 1), except the bare-able --with-ferry', async () => {
    const greedy: string[] = [];
    for (const cmd of await allCommands()) {
      const options = (cmd.builder(yargs([]) as never) as unknown as { getOptions(): { array: string[]; narg: Record<string, number>; alias: Record<string, string[]> } }).getOptions();
      const name = [cmd.command].flat()[0]!.split(' ')[0]!;
      for (const key of options.array) {
        // Positionals (variadic by design) are not flags.
        if (new RegExp(`[<[]${key}(\\.\\.)?[>\\]]`).test([cmd.command].flat().join(' '))) continue;
        const names = [key, ...(options.alias[key] ?? []), ...Object.keys(options.alias).filter((k) => options.alias[k]!.includes(key))];
        if (!names.some((n) => options.narg[n] === 1) && key !== 'with-ferry') greedy.push(`${name} --${key}`);
      }
    }
    expect(greedy).toEqual([]);
  });

  it('--platform takes comma lists as well as repeats', () => {
    expect(parsePlatformList(['linux/amd64,linux/arm64', 'windows/amd64:10.0.20348'])).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348' },
    ]);
    expect(() => parsePlatformList(['linux/amd64,nonsense'])).toThrow(/invalid platform 'nonsense'/);
  });
});

describe.skipIf(!rigContext().available)('--platform before the references', () => {
  let work: WorkDir;
  beforeAll(async () => {
    work = await workDir('ferry-repeatable-');
  });
  afterAll(async () => work?.cleanup());
  const flags = () => ['--plain-http', '--store', work.path('store'), '--json'];

  it('export --platform linux/arm64 REF keeps REF a reference', async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const arm = multi.manifests.find((m) => m.platform?.architecture === 'arm64')!;
    const r = await ferry(['export', '--platform', 'linux/arm64', `${rig.source.host}/${multi.reference}`, '-o', work.path('arm.tar'), ...flags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ images: [{ digest: arm.digest, sourceDigest: multi.digest }] });
  });

  it('export --platform linux/amd64,linux/arm64 (a comma list) keeps both platforms: the index as it is', async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const r = await ferry(['export', '--platform', 'linux/amd64,linux/arm64', `${rig.source.host}/${multi.reference}`, '-o', work.path('both.tar'), ...flags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ images: [{ digest: multi.digest }] });
  });

  it('copy --platform linux/arm64 SOURCE TARGET: both stay references', async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const r = await ferry(['copy', '--platform', 'linux/arm64', `${rig.source.host}/${multi.reference}`, `${rig.source.host}/ferry-test/multi-arm:repeatable`, ...flags()]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a single-platform linux/amd64 image asked for linux/arm64 is refused, as an index without arm64 is, naming what it has', async () => {
    const rig = seededRig();
    const app = rig.images.images.appA;
    const r = await ferry(['export', '--platform', 'linux/arm64', `${rig.source.host}/${app.reference}`, '-o', work.path('app.tar'), '--plain-http', '--store', work.path('store')]);
    expect(r.code).not.toBe(ExitCode.ok);
    expect(r.stderr).toContain(`${rig.source.host}/${app.reference}`);
    expect(r.stderr).toMatch(/no image for platform linux\/arm64: it is a single-platform image of linux\/amd64/);
    const windows = rig.images.images.windows;
    const w = await ferry(['export', '--platform', 'linux/arm64', `${rig.source.host}/${multi(rig)}`, '-o', work.path('multi.tar'), '--plain-http', '--store', work.path('store'), '--platform', 'windows/amd64', `${rig.source.host}/${windows.reference}`]);
    expect(w.code, w.stderr).toBe(0);
  });
});

function multi(rig: ReturnType<typeof seededRig>): string {
  return rig.images.images.multi.reference;
}
