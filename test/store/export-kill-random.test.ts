import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreVerifyReport } from '../../src/store/index.js';
import { pushBigImage, type BigImage } from '../helpers/big-image.js';
import { ferry, FERRY_BIN } from '../helpers/ferry-cli.js';
import { workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { killOnExit } from '../rig/child-reaper.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// kill -9 (and one Ctrl-C) at random points of `ferry export`, three times into the same store,
// then: the rerun finishes, `ferry store gc` leaves no ingest row or file behind,
// and `ferry store verify` finds every blob sound and every tag complete.

const MiB = 1024 * 1024;

describe.skipIf(!rigContext().available)('an export killed at random points', () => {
  let work: WorkDir;
  let registry: Registry;
  let big: BigImage;
  const store = () => work.path('store');
  const args = () => {
    const rig = seededRig();
    const refs = [rig.images.images.appA, rig.images.images.appB].map((i) => `${rig.source.host}/${i.reference}`);
    return ['export', ...refs, `${registry.host}/${big.repository}:${big.tag}`, '-o', work.path('out.tar'), '--plain-http', '--store', store()];
  };

  beforeAll(async () => {
    work = await workDir('ferry-kill-random-');
    registry = await startRegistry({});
    big = await pushBigImage(registry, 'ferry-test/random-kill', '1.0', [6 * MiB, 6 * MiB + 1, 6 * MiB + 2]);
  });
  afterAll(async () => {
    await registry?.stop();
    await work?.cleanup();
  });

  /** Runs the export and sends `signal` after `ms`; true when it landed (the export had not finished). */
  async function killAfter(ms: number, signal: NodeJS.Signals): Promise<boolean> {
    const child = spawn(process.execPath, [FERRY_BIN, ...args()], { env: { ...process.env, FERRY_STORE: '' }, stdio: 'ignore' });
    killOnExit(child);
    let sent = false;
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const timer = setTimeout(() => (sent = child.kill(signal)), ms);
    const code = await exit;
    clearTimeout(timer);
    return sent && code !== 0;
  }

  it('the rerun finishes, gc leaves no ingest behind, verify finds the store sound', async () => {
    // How long a whole export takes here, to spread the kills over it (not asserted).
    const started = Date.now();
    const timing = await ferry([...args().slice(0, -2), '--store', work.path('timing-store')], { timeoutMs: 300_000 });
    expect(timing.code, timing.stderr).toBe(0);
    const whole = Date.now() - started;
    const points = [Math.random(), Math.random(), Math.random()].map((f) => Math.round((0.05 + 0.9 * f) * whole));
    const landed: boolean[] = [];
    for (const [i, ms] of points.entries()) landed.push(await killAfter(ms, i === 1 ? 'SIGINT' : 'SIGKILL'));
    if (process.env.FERRY_SHOW_NUMBERS) console.info(`export ${whole} ms; kills at ${points.join(', ')} ms landed: ${landed.join(', ')}`);

    const rerun = await ferry(args(), { timeoutMs: 300_000 });
    expect(rerun.code, `${rerun.stderr} (kills at ${points.join(', ')} ms of ${whole})`).toBe(0);
    const gc = await ferry(['store', 'gc', '--store', store(), '--json']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(await readdir(join(store(), 'ingest'))).toEqual([]);
    const db = new Database(join(store(), 'index.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT ref FROM ingests').all()).toEqual([]);
    } finally {
      db.close();
    }
    const verified = await ferry(['store', 'verify', '--store', store(), '--json']);
    expect(verified.code, verified.stdout).toBe(0);
    const report = verified.json as StoreVerifyReport;
    expect(report).toMatchObject({ ok: true, blobs: { corrupt: [], orphanFiles: 0 }, tags: { incomplete: [] }, ingests: { total: 0 } });
    expect((await ferry(['verify', work.path('out.tar')])).code).toBe(0);
  });
});
