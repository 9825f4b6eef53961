import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type FerryResult } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, sourceRefs, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { requirePeer, runOk } from '../rig/peers.js';

// Issue 13 item 15: each volume of a split bundle is signed through the volume
// list (its size and sha256), so the one stick in hand can be checked without
// the others: `verify --present` checks the volumes there and names the ones
// not checked; `--volume N` checks only those asked for. Without either, a
// missing volume is still refused, naming every missing one. `inspect --key`
// checks the signatures before it shows anything.

const LIST = 'usb.tar.volumes.json';
const SIG = `${LIST}.sig`;

interface VolumeRow {
  name: string;
  status: string;
}

const statuses = (result: FerryResult): Record<string, string> => {
  const doc = result.json as { volumes: { list: VolumeRow[] } };
  return Object.fromEntries(doc.volumes.list.map((v) => [v.name, v.status]));
};

describe.skipIf(!rigContext().available)('verify the one stick in hand (split bundle)', () => {
  let work: WorkDir;
  let volumes: string[];
  const key = () => work.path('site.pub');

  /** A folder holding the volume list, its signature and the given volumes: what one stick carries. */
  function stick(name: string, ...indexes: number[]): string {
    const dir = work.path(name);
    mkdirSync(dir);
    for (const f of [LIST, SIG, ...indexes.map((i) => volumes[i] as string)]) copyFileSync(work.path('all', f), join(dir, f));
    return dir;
  }

  beforeAll(async () => {
    const rig = seededRig();
    work = await workDir('ferry-one-stick-');
    expectOk(await ferry(['keygen', '-o', work.path('site')]));
    expectOk(await ferry(['keygen', '-o', work.path('other')]));
    const refs = sourceRefs(rig, ['appA', 'appB']);
    expectOk(await ferry(['export', ...refs, '-o', work.path('all', 'usb.tar'), '--plain-http', '--split', '128k', '--sign', work.path('site.key'), '--store', work.path('store')]));
    volumes = readdirSync(work.path('all'))
      .filter((f) => /^usb\.tar\.\d{3}$/.test(f))
      .sort();
    expect(volumes.length).toBeGreaterThanOrEqual(3);
  });
  afterAll(() => work?.cleanup());

  it('without --present a lone stick is refused, naming every missing volume and the way to check it', async () => {
    const dir = stick('lone', 1);
    const result = await ferry(['verify', join(dir, 'usb.tar.001'), '--key', key()]);
    const missing = volumes.filter((v) => v !== 'usb.tar.001');
    const line = expectRefusal(result, 5, ...missing);
    expect(line).toContain(`are missing (1 of ${volumes.length} in ${dir}: usb.tar.001)`);
    expect(result.stderr).toMatch(/hint: .*--present \(or --volume N\)/);
    const json = await ferry(['verify', join(dir, 'usb.tar.001'), '--key', key(), '--json']);
    expect(json.code).toBe(5);
    expect((json.json as { error: { details: unknown } }).error.details).toEqual({ missing, present: ['usb.tar.001'] });
  });

  it('each stick alone passes with --present, naming the volumes not checked', async () => {
    for (const [i, name] of volumes.entries()) {
      const dir = stick(`stick${i}`, i);
      const result = expectOk(await ferry(['verify', join(dir, name), '--key', key(), '--present']));
      const absent = volumes.filter((v) => v !== name).join(', ');
      expect(result.stdout).toContain(`OK for the 1 of ${volumes.length} volumes checked; not checked: ${absent} (absent)`);
      expect(result.stdout).toMatch(/signature of the volume list: verified/);
      expect(result.stdout).toContain(`${name}: `);

      const json = expectOk(await ferry(['verify', join(dir, LIST), '--key', key(), '--present', '--json']));
      expect(json.json).toMatchObject({ ok: true, complete: false, signature: 'verified', checked: 1 });
      expect(statuses(json)).toEqual(Object.fromEntries(volumes.map((v) => [v, v === name ? 'checked' : 'absent'])));
    }
  });

  it('--present names a volume file the list does not (another export, a number beyond the set), not checked, and still passes', async () => {
    const dir = stick('stray', 1);
    const beyond = `usb.tar.${String(volumes.length + 3).padStart(3, '0')}`;
    copyFileSync(work.path('all', volumes[0] as string), join(dir, beyond));
    const result = expectOk(await ferry(['verify', join(dir, 'usb.tar.001'), '--key', key(), '--present']));
    expect(result.stdout).toContain(`not in the volume list, so not checked: ${beyond}`);
    const json = expectOk(await ferry(['verify', join(dir, LIST), '--key', key(), '--present', '--json']));
    expect(json.json).toMatchObject({ ok: true, complete: false, checked: 1, stray: [beyond] });
    expect(Object.keys(statuses(json))).not.toContain(beyond);
  });

  it('with every volume there, --present is the full verify (complete)', async () => {
    const result = expectOk(await ferry(['verify', work.path('all', 'usb.tar.000'), '--key', key(), '--present', '--json']));
    expect(result.json).toMatchObject({ ok: true, complete: true, signature: 'verified', images: 2 });
    expect(Object.values(statuses(result))).toEqual(volumes.map(() => 'checked'));
  });

  it('--volume N checks only the volumes asked for; one not on the stick is a clear error', async () => {
    const dir = stick('two', 0, 1);
    const result = expectOk(await ferry(['verify', join(dir, LIST), '--key', key(), '--volume', '1', '--json']));
    expect(result.json).toMatchObject({ complete: false, checked: 1 });
    expect(statuses(result)).toMatchObject({ 'usb.tar.000': 'skipped', 'usb.tar.001': 'checked', 'usb.tar.002': 'absent' });
    const human = expectOk(await ferry(['verify', join(dir, LIST), '--key', key(), '--volume', 'usb.tar.000']));
    expect(human.stdout).toMatch(/OK for the 1 of \d+ volumes checked; not checked: usb\.tar\.002.* \(absent\); usb\.tar\.001 \(not asked\)/);

    expectRefusal(await ferry(['verify', join(dir, LIST), '--key', key(), '--volume', '2']), 4, 'volume usb.tar.002 is not in', 'here: usb.tar.000, usb.tar.001');
    expectRefusal(await ferry(['verify', join(dir, LIST), '--key', key(), '--volume', '99']), 2, '--volume 99');
    const bare = stick('list-only');
    expectRefusal(await ferry(['verify', join(bare, LIST), '--key', key(), '--present']), 4, 'nothing to check');
  });

  it('a damaged volume on the stick fails (exit 5) naming it: changed bytes, or cut short', async () => {
    const dir = stick('damaged', 1, 2);
    const path = join(dir, 'usb.tar.001');
    const bytes = readFileSync(path);
    bytes[1000] = (bytes[1000] as number) ^ 0xff;
    writeFileSync(path, bytes);
    const changed = await ferry(['verify', path, '--key', key(), '--present', '--json']);
    expectRefusal(changed, 5, 'volume usb.tar.001 is damaged: sha256 mismatch');
    const error = (changed.json as { error: { details: { volumes: VolumeRow[] } } }).error;
    expect(error.details.volumes.filter((v) => v.status !== 'absent').map((v) => [v.name, v.status])).toEqual([
      ['usb.tar.001', 'failed'],
      ['usb.tar.002', 'checked'],
    ]);

    truncateSync(join(dir, 'usb.tar.002'), 4096);
    expectRefusal(await ferry(['verify', path, '--key', key(), '--volume', '2']), 5, 'volume usb.tar.002 is damaged: 4096 bytes, the volume list says 131072');
  });

  it('a stick without the signature, or checked with another key, is refused', async () => {
    const dir = stick('unsigned', 1);
    rmSync(join(dir, SIG));
    expectRefusal(await ferry(['verify', join(dir, 'usb.tar.001'), '--key', key(), '--present']), 5, `${SIG} is missing`);
    const signed = stick('wrong-key', 1);
    // Without --key the stick is still checked against its list, and the output says what that proves.
    const unkeyed = expectOk(await ferry(['verify', join(signed, 'usb.tar.001'), '--present']));
    expect(unkeyed.stdout).toMatch(/signature of the volume list: unchecked .*no --key given/);
    expectRefusal(await ferry(['verify', join(signed, 'usb.tar.001'), '--key', work.path('other.pub'), '--present']), 5, 'not by the given key');
  });

  it('inspect --key verifies the signatures before it shows the bundle', async () => {
    const first = work.path('all', 'usb.tar.000');
    const shown = expectOk(await ferry(['inspect', first, '--key', key()]));
    expect(shown.stdout).toMatch(/signature: verified \(key sha256:/);
    expect(shown.stdout).toContain('app-a');
    const refused = await ferry(['inspect', first, '--key', work.path('other.pub')]);
    expectRefusal(refused, 5, 'not by the given key');
    expect(refused.stdout).toBe('');
    const dir = stick('inspect-unsigned', 0);
    rmSync(join(dir, SIG));
    expectRefusal(await ferry(['inspect', join(dir, 'usb.tar.000'), '--key', key()]), 5, `${SIG} is missing`);
  });
});

const mtoolsThere = requirePeer('mkfs.vfat', 'dosfstools') && requirePeer('mcopy', 'mtools');

describe.skipIf(!rigContext().available || !mtoolsThere)('one volume on a real FAT32 stick (mtools)', () => {
  let work: WorkDir;
  afterAll(() => work?.cleanup());

  it('copied onto a FAT32 image and back out alone, it verifies with --present', async () => {
    const rig = seededRig();
    work = await workDir('ferry-one-stick-fat-');
    expectOk(await ferry(['keygen', '-o', work.path('site')]));
    expectOk(await ferry(['export', ...sourceRefs(rig, ['appA']), '-o', work.path('all', 'usb.tar'), '--plain-http', '--split', '128k', '--sign', work.path('site.key'), '--store', work.path('store')]));
    const image = work.path('stick.img');
    await runOk('mkfs.vfat', ['-C', '-F', '32', image, String(64 * 1024)]);
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    await runOk('mcopy', ['-i', image, ...[LIST, SIG, 'usb.tar.001'].map((f) => work.path('all', f)), '::/'], { env });
    const listing = await runOk('mdir', ['-i', image, '-b', '::/'], { env });
    expect(listing.stdout).toContain('usb.tar.001');

    mkdirSync(work.path('from-stick'));
    for (const f of [LIST, SIG, 'usb.tar.001']) await runOk('mcopy', ['-i', image, `::/${f}`, work.path('from-stick', f)], { env });
    const result = expectOk(await ferry(['verify', work.path('from-stick', 'usb.tar.001'), '--key', work.path('site.pub'), '--present']));
    expect(result.stdout).toMatch(/OK for the 1 of \d+ volumes checked; not checked: usb\.tar\.000.* \(absent\)/);
  });
});
