import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';

// design §4: the writer is deterministic, so one lost volume can be re-made alone.

const dir = mkdtempSync(join(tmpdir(), 'ferry-only-volume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(!rigContext().available)('export --only-volume', () => {
  it('re-makes one lost volume byte for byte, and verify accepts the set again', async () => {
    const rig = seededRig();
    const refs = ['appA', 'appB', 'docker'].map((k) => `${rig.source.host}/${rig.images.images[k as 'appA'].reference}`);
    const common = ['--plain-http', '--split', '128k', '--store', join(dir, 'store')];
    const first = await ferry(['export', ...refs, '-o', join(dir, 'b.tar'), ...common]);
    expect(first.code, first.stderr).toBe(0);
    const volumes = readdirSync(dir).filter((f) => /^b\.tar\.\d{3}$/.test(f)).sort();
    expect(volumes.length).toBeGreaterThan(2);
    const original = sha(join(dir, 'b.tar.001'));
    const volumeTwo = sha(join(dir, 'b.tar.002'));
    rmSync(join(dir, 'b.tar.001'));
    expect((await ferry(['verify', join(dir, 'b.tar.000')])).code).toBe(5);

    const again = await ferry(['export', ...refs, '-o', join(dir, 'b.tar'), ...common, '--only-volume', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/re-made .*b\.tar\.001 from the store alone.*matches the volume list/);
    expect(sha(join(dir, 'b.tar.001'))).toBe(original);
    expect(readdirSync(dir).filter((f) => f.startsWith('.ferry-volumes-'))).toEqual([]);
    const verify = await ferry(['verify', join(dir, 'b.tar.000'), '--json']);
    expect(verify.code, verify.stderr).toBe(0);

    // A store that did not write the bundle has no record of it: the images are pulled again
    // and the volume is still checked against the volume list beside it.
    rmSync(join(dir, 'b.tar.002'));
    const other = common.map((a) => (a === join(dir, 'store') ? join(dir, 'other-store') : a));
    const pulled = await ferry(['export', ...refs, '-o', join(dir, 'b.tar'), ...other, '--only-volume', '2']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/from the registries.*matches the volume list/);
    expect(sha(join(dir, 'b.tar.002'))).toBe(volumeTwo);
  });
});
