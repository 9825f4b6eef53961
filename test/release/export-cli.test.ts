import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, sourceRefs, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { checkoutRelease } from './release-kit.js';

// `ferry export --with-ferry` through the CLI: without a value it carries the
// release of the running ferry (this checkout's, found in release/ when it is
// still this ferry's, else built there); a bare flag before an image reference
// does not eat the reference; a file that is not a release is refused before
// anything is pulled; inspect shows what the bundle carries.

describe.skipIf(!rigContext().available)('ferry export --with-ferry', () => {
  let work: WorkDir;
  let release: string;

  beforeAll(async () => {
    work = await workDir('ferry-with-ferry-');
    release = await checkoutRelease();
  }, 300_000);

  afterAll(async () => {
    await work?.cleanup();
  });

  const flags = () => ['--plain-http', '--store', work.path('store')];
  const sha256 = (path: string) => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;

  it('without a value carries the running ferry release, and inspect shows it', async () => {
    const [ref] = sourceRefs(seededRig());
    expectOk(await ferry(['export', ref as string, '-o', work.path('bare.tar'), ...flags(), '--with-ferry']));
    const inspected = expectOk(await ferry(['inspect', work.path('bare.tar'), '--json']));
    const releases = (inspected.json as { releases: Array<{ entry: string; digest: string; size: number; requires: Record<string, string> }> }).releases;
    expect(releases).toHaveLength(1);
    expect(releases[0]?.entry).toBe(`ferry/tool/${release.split('/').pop()}`);
    expect(releases[0]?.digest).toBe(sha256(release));
    const text = expectOk(await ferry(['inspect', work.path('bare.tar')])).stdout;
    expect(text).toMatch(new RegExp(`^carries ferry \\S+ for ${process.platform}-${process.arch}, needs .*GLIBC 2\\.\\d+.*: ferry/tool/ferry-`, 'm'));
  });

  it('a bare --with-ferry before an image reference leaves the reference an image', async () => {
    const [first, second] = sourceRefs(seededRig());
    const result = expectOk(await ferry(['export', '--with-ferry', first as string, second as string, '-o', work.path('before.tar'), ...flags(), '--json']));
    const report = result.json as { images: Array<{ name: string }>; bundle: { bundleJson: { releases: unknown[] } } };
    expect(report.images).toHaveLength(2);
    expect(report.bundle.bundleJson.releases).toHaveLength(1);
  });

  it('refuses a file that is not a ferry release, before pulling anything', async () => {
    const [ref] = sourceRefs(seededRig());
    const fake = work.path('ferry-0.1.0-linux-x64.tar.gz');
    await writeFile(fake, 'not gzip at all\n');
    const refused = await ferry(['export', ref as string, '-o', work.path('fake.tar'), '--store', work.path('fresh-store'), '--plain-http', '--with-ferry', fake]);
    expect(refused.code, refused.stderr).toBe(ExitCode.integrity);
    expect(refused.stderr).toContain('ferry-0.1.0-linux-x64.tar.gz: is not a readable .tar.gz');
    const pulled = existsSync(work.path('fresh-store', 'blobs', 'sha256')) ? readdirSync(work.path('fresh-store', 'blobs', 'sha256')) : [];
    expect(pulled).toEqual([]);
    const misnamed = await ferry(['export', ref as string, '-o', work.path('fake.tar'), ...flags(), '--with-ferry', work.path('bare.tar.gz')]);
    expect(misnamed.code, misnamed.stderr).toBe(ExitCode.usage);
    expect(misnamed.stderr).toContain('is not named like a ferry release');
  });

  it('--only-volume re-makes volume 0 with the release it carries, from the store record, offline of the file only when it must be', async () => {
    const [ref] = sourceRefs(seededRig());
    // A release file of its own, so the test can take it away afterwards.
    const copy = work.path('carried', release.split('/').pop() as string);
    mkdirSync(work.path('carried'));
    mkdirSync(work.path('vol'));
    copyFileSync(release, copy);
    const base = (split: string) => ['export', ref as string, '-o', work.path('vol', 'v.tar'), ...flags(), '--split', split, '--with-ferry', copy];
    // The smallest split that holds the head and the release in volume 0, as the refusal names it.
    const small = await ferry(base('1M'));
    expect(small.code, small.stderr).toBe(ExitCode.usage);
    const split = /use --split (\d+) or more/.exec(small.stderr)?.[1] as string;
    expect(split).toMatch(/^\d+$/);
    expectOk(await ferry(base(split)));
    const volumes = readdirSync(work.path('vol')).filter((f) => /^v\.tar\.\d{3}$/.test(f)).sort();
    expect(volumes.length).toBeGreaterThan(1);
    const original = volumes.map((v) => sha256(work.path('vol', v)));

    for (const n of [0, 1]) {
      rmSync(work.path('vol', volumes[n] as string));
      expectOk(await ferry([...base(split), '--only-volume', String(n)]));
      expect(sha256(work.path('vol', volumes[n] as string))).toBe(original[n]);
    }
    // The release file is gone: volume 1 needs only the store; volume 0 says what it needs.
    rmSync(copy);
    rmSync(work.path('vol', volumes[1] as string));
    const onlyStore = ['export', ref as string, '-o', work.path('vol', 'v.tar'), ...flags(), '--split', split];
    expectOk(await ferry([...onlyStore, '--only-volume', '1']));
    expect(sha256(work.path('vol', volumes[1] as string))).toBe(original[1]);
    rmSync(work.path('vol', volumes[0] as string));
    expectRefusal(await ferry([...onlyStore, '--only-volume', '0']), ExitCode.usage, 'volume 0 carries ferry/tool/', 'is gone');
    expect(existsSync(work.path('vol', volumes[0] as string))).toBe(false);
    // Given again (from anywhere), it is read, checked against its digest, and volume 0 is whole again.
    expectOk(await ferry([...onlyStore, '--only-volume', '0', '--with-ferry', release]));
    expect(sha256(work.path('vol', volumes[0] as string))).toBe(original[0]);
  }, 180_000);
});
