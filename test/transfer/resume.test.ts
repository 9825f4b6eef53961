import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBigImage, type BigImage } from '../helpers/big-image.js';
import { ferry, FERRY_BIN } from '../helpers/ferry-cli.js';
import { expectOk, registryFlags, sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// kill -9 in the middle of `ferry import`, then run it again: the rerun
// re-reads the stick, skips what the target already committed and finishes,
// so it uploads less than the whole. The bundle holds appA (rig) and an image
// of three 24 MiB incompressible layers from a registry this suite seeds; once
// as one file, once as volumes cut at 20M (layers straddle their ends, and
// both are read by byte ranges).

const MiB = 1024 * 1024;
const LAYER_SIZES = [24 * MiB, 24 * MiB, 24 * MiB];

interface ImportJson {
  images: Array<{ target: string; digest: string }>;
  blobs: { missing: number; missingBytes: number; pushed: number; bytes: number };
  dryRun: boolean;
}

describe.skipIf(!rigContext().available)('an import killed with SIGKILL resumes', () => {
  let work: WorkDir;
  let source: Registry;
  let big: BigImage;
  const bundle = () => work.path('big.tar');
  const targets: Registry[] = [];

  beforeAll(async () => {
    work = await workDir('ferry-resume-');
    source = await startRegistry({});
    big = await pushBigImage(source, 'ferry-test/big', '1.0', LAYER_SIZES);
    const refs = [...sourceRefs(seededRig(), ['appA']), `${source.host}/ferry-test/big:1.0`];
    expectOk(await ferry(['export', ...refs, '-o', bundle(), '--plain-http', '--store', work.path('export-store')], { timeoutMs: 300_000 }));
    await mkdir(work.path('set'));
    expectOk(await ferry(['export', ...refs, '-o', work.path('set', 'big.tar'), '--split', '20M', '--plain-http', '--store', work.path('export-store')], { timeoutMs: 300_000 }));
    // 72 MiB of layers in 20 MiB volumes: layers straddle volume ends.
    expect((await readdir(work.path('set'))).filter((f) => /^big\.tar\.\d{3}$/.test(f)).length).toBe(4);
  });

  afterAll(async () => {
    await Promise.all([source?.stop(), ...targets.map((t) => t.stop())]);
    await work?.cleanup();
  });

  /** docker-registry's own file for a committed blob: present only once the upload was committed. */
  const committedIn = (target: Registry, digest: string) => existsSync(join(target.storageDir, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data'));
  /** Bytes of the big layers in the target: committed blobs plus upload sessions in flight. */
  async function arrivedIn(target: Registry): Promise<number> {
    let bytes = big.layers.filter((l) => committedIn(target, l.digest)).reduce((a, l) => a + l.size, 0);
    const uploads = join(target.storageDir, 'docker/registry/v2/repositories/mirror/ferry-test/big/_uploads');
    for (const id of await readdir(uploads).catch(() => [])) bytes += (await stat(join(uploads, id, 'data')).catch(() => ({ size: 0 }))).size;
    return bytes;
  }

  it('the bundle is no bigger than its unique content + 0.5%, at 72 MiB of layers', async () => {
    const { appA, sbom, signature } = seededRig().images.images;
    const unique = new Map<string, number>();
    for (const image of [appA, sbom, signature]) for (const d of [...image.manifests, ...image.blobs]) unique.set(d.digest, d.size);
    for (const d of [big.config, ...big.layers]) unique.set(d.digest, d.size);
    const uniqueBytes = [...unique.values()].reduce((a, b) => a + b, 0);
    const size = (await stat(bundle())).size;
    if (process.env.FERRY_SHOW_NUMBERS) console.info(`big bundle ${size} B / unique ${uniqueBytes} B = ${(size / uniqueBytes).toFixed(5)}`);
    expect(size).toBeGreaterThan(uniqueBytes);
    expect(size).toBeLessThanOrEqual(uniqueBytes * 1.005);
  });

  it.each([
    ['one file', 'big.tar'],
    ['a set of volumes', 'set/big.tar.000'],
  ])('%s: after kill -9 mid-transfer, the rerun completes, uploads less than the whole, and lands the source digests', async (_what, file) => {
    const target = await startRegistry({ auth: 'basic' });
    targets.push(target);
    const view = new TargetView(target);
    try {
      await killAndRerun(target, view, work.path(file));
    } finally {
      await view.close();
    }
  });

  async function killAndRerun(target: Registry, view: TargetView, path: string): Promise<void> {
    const store = work.path(`import-store-${targets.indexOf(target)}`);
    const importArgs = (...extra: string[]) => ['import', path, '--to', `${target.host}/mirror`, ...registryFlags(target), '--store', store, '--json', ...extra];
    const committedLayers = () => big.layers.filter((l) => committedIn(target, l.digest)).length;
    const plan = expectOk(await ferry(importArgs('--dry-run'))).json as ImportJson;
    const total = plan.blobs.missingBytes;
    expect(total).toBeGreaterThan(LAYER_SIZES.reduce((a, b) => a + b, 0));
    expect(await view.catalog()).toEqual([]);

    // Kill at a random point between 30% and 85% of the big layers' bytes reaching the target.
    const fraction = 0.3 + Math.random() * 0.55;
    const threshold = Math.floor(fraction * LAYER_SIZES.reduce((a, b) => a + b, 0));
    // Its own TMPDIR: SIGKILL leaves the reader's spool dir (index.db copy) behind; keep it in work/.
    await mkdir(work.path('tmp'), { recursive: true });
    const env = { ...process.env, FERRY_STORE: '', TMPDIR: work.path('tmp') };
    const child = spawn(process.execPath, [FERRY_BIN, ...importArgs()], { env, stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let finishedAlone = false;
    void exited.then(() => (finishedAlone = true));
    const deadline = Date.now() + 120_000;
    while (!finishedAlone && (await arrivedIn(target)) < threshold && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (!finishedAlone) child.kill('SIGKILL');
    const end = await exited;
    const landedBeforeKill = committedLayers();
    expect(end.signal, `the import ended by itself (exit ${end.code}) before the kill (threshold ${threshold} B)`).toBe('SIGKILL');
    expect(landedBeforeKill).toBeLessThan(LAYER_SIZES.length);
    // Nothing is tagged before every blob under it is in place.
    expect(await view.tags('mirror/ferry-test/big')).toEqual([]);

    const rerun = expectOk(await ferry(importArgs(), { timeoutMs: 300_000 })).json as ImportJson;
    if (process.env.FERRY_SHOW_NUMBERS) {
      console.info(`killed at ${(fraction * 100).toFixed(0)}% (${threshold} B), ${landedBeforeKill}/3 big layers committed; total ${total} B, rerun uploaded ${rerun.blobs.bytes} B`);
    }
    expect(rerun.blobs.bytes).toBeLessThan(total);
    expect(rerun.blobs.bytes).toBeLessThanOrEqual(total - landedBeforeKill * 24 * MiB);
    expect(rerun.blobs.pushed).toBeGreaterThan(0); // the kill landed before the end: something was left to do

    const { appA } = seededRig().images.images;
    expect((await view.manifest(`mirror/${appA.repository}`, '1.0'))?.digest).toBe(appA.digest);
    expect((await view.manifest('mirror/ferry-test/big', '1.0'))?.digest).toBe(big.digest);
    for (const layer of big.layers) expect(await view.blobStatus('mirror/ferry-test/big', layer.digest)).toBe(200);
    // A third run has nothing left to move.
    const third = expectOk(await ferry(importArgs())).json as ImportJson;
    expect(third.blobs).toMatchObject({ missing: 0, bytes: 0 });
  }
});
