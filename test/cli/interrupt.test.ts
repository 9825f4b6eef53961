import { spawn, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBigImage, type BigImage } from '../helpers/big-image.js';
import { ferry, FERRY_BIN, type FerryResult } from '../helpers/ferry-cli.js';
import { expectOk, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { startSlowProxy, type SlowProxy } from './slow-proxy.js';

// Issue 11 item 18: SIGINT and SIGTERM sent to a real running ferry while work
// is in flight. Every command stops cleanly with ONE line, "ferry:
// interrupted; rerun the same command to resume", and exit 130 (as shells and
// git do); no stack, no "internal error". Nothing is left half-written: no
// bundle or .partial volume of the writer, no scratch directory, no tag on a
// target; an in-flight download stays in the store's ingest area and the rerun
// resumes it (the proxy sees a Range request); the rerun finishes.

const MiB = 1024 * 1024;
const INTERRUPTED = 130;
const MESSAGE = 'ferry: interrupted; rerun the same command to resume';

interface Running {
  child: ChildProcess;
  done: Promise<FerryResult>;
}

function start(args: readonly string[]): Running {
  const child = spawn(process.execPath, [FERRY_BIN, ...args], { env: { ...process.env, FERRY_STORE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<FerryResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, json: undefined }));
  });
  return { child, done };
}

async function until(what: string, ready: () => boolean | Promise<boolean>, running: Running): Promise<void> {
  let exited = false;
  void running.done.then(() => (exited = true));
  while (!(await ready())) {
    if (exited) throw new Error(`ferry finished before ${what}: ${(await running.done).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectInterrupted(result: FerryResult): void {
  expect(result.code, result.stderr).toBe(INTERRUPTED);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  // The progress line log (stderr is not a terminal here) may come first; the interruption is the one other line, and the last.
  expect(lines.at(-1)).toBe(MESSAGE);
  expect(lines.filter((l) => !/^ferry: (export|import|copy): /.test(l))).toEqual([MESSAGE]);
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

describe.skipIf(!rigContext().available)('SIGINT and SIGTERM stop every command cleanly, exit 130, and the rerun finishes', () => {
  let work: WorkDir;
  let source: Registry;
  let proxy: SlowProxy;
  let small: BigImage;
  const started: Array<{ stop(): Promise<void> }> = [];
  const slowRef = () => `${proxy.host}/ferry-test/small:1.0`;
  const scratchOf = async (pid: number | undefined) => (await files(tmpdir())).filter((n) => n.startsWith(`ferry-write-${pid}-`) || n.startsWith(`ferry-bundle-${pid}-`));

  beforeAll(async () => {
    work = await workDir('ferry-interrupt-');
    source = await startRegistry();
    started.push(source);
    small = await pushBigImage(source, 'ferry-test/small', '1.0', [4 * MiB, 4 * MiB, 4 * MiB]);
    await pushBigImage(source, 'ferry-test/big', '1.0', [40 * MiB, 40 * MiB]);
    proxy = await startSlowProxy(new URL(source.url));
    started.push(proxy);
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    await work?.cleanup();
  });

  it('export, SIGINT while layers download: exit 130, the partial download kept and resumed by the rerun', async () => {
    const args = ['export', slowRef(), '-o', work.path('small.tar'), '--plain-http', '--store', work.path('store')];
    const running = start(args);
    const ingest = work.path('store', 'ingest');
    await until('a layer was half downloaded', async () => proxy.moved() > 2 * MiB && (await files(ingest)).some((f) => f.endsWith('.partial')), running);
    running.child.kill('SIGINT');
    expectInterrupted(await running.done);
    const partials = (await files(ingest)).filter((f) => f.endsWith('.partial'));
    expect(partials.length).toBeGreaterThan(0);
    expect((await stat(work.path('store', 'ingest', partials[0] as string))).size).toBeGreaterThan(0);
    expect((await files(work.dir)).filter((f) => f.startsWith('small.tar'))).toEqual([]);

    expectOk(await ferry(args));
    const resumed = [...proxy.ranges.entries()].filter(([path]) => small.layers.some((l) => path.endsWith(l.digest)));
    expect(resumed.length, 'the rerun asked for the rest of a layer with Range').toBeGreaterThan(0);
    expectOk(await ferry(['verify', work.path('small.tar')]));
  });

  it('export, SIGTERM while the bundle is being written: exit 130, no volume, no .partial, no scratch directory left', async () => {
    const args = ['export', `${source.host}/ferry-test/big:1.0`, '-o', work.path('out', 'big.tar'), '--split', '1M', '--plain-http', '--store', work.path('store')];
    await mkdir(work.path('out'));
    // Stop the writer (SIGSTOP) the moment its first volume appears, look, then SIGTERM it and let it go on.
    const running = start(args);
    const watcher = watch(work.path('out'), (_event, name) => {
      if (name === 'big.tar.000.partial') running.child.kill('SIGSTOP');
    });
    try {
      await until('the first volume was being written', async () => (await files(work.path('out'))).includes('big.tar.000.partial'), running);
    } finally {
      watcher.close();
    }
    running.child.kill('SIGTERM');
    running.child.kill('SIGCONT');
    const result = await running.done;
    expectInterrupted(result);
    expect(await files(work.path('out')), 'nothing of the bundle is left').toEqual([]);
    expect(await scratchOf(running.child.pid)).toEqual([]);
    expectOk(await ferry(args));
    expectOk(await ferry(['verify', work.path('out', 'big.tar.000')]));
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`import, ${signal} while blobs are pushed: exit 130, no tag in the target, the rerun lands the image`, async () => {
      const target = await startRegistry();
      started.push(target);
      const slowTarget = await startSlowProxy(new URL(target.url));
      started.push(slowTarget);
      const args = ['import', work.path('small.tar'), '--to', `${slowTarget.host}/mirror`, '--plain-http', '--store', work.path('import-store')];
      const running = start(args);
      await until('a layer was half pushed', () => slowTarget.moved() > 2 * MiB, running);
      running.child.kill(signal);
      expectInterrupted(await running.done);
      const view = new TargetView(target);
      try {
        expect(await view.tags('mirror/ferry-test/small')).toEqual([]);
        expectOk(await ferry(args));
        expect((await view.manifest('mirror/ferry-test/small', '1.0'))?.digest).toBe(small.digest);
      } finally {
        await view.close();
      }
    });
  }

  it('copy, SIGINT mid-transfer: the same exit 130 and line', async () => {
    const target = await startRegistry();
    started.push(target);
    const before = proxy.moved();
    const running = start(['copy', slowRef(), `${target.host}/copied/small:1.0`, '--plain-http']);
    await until('a layer was half copied', () => proxy.moved() - before > 2 * MiB, running);
    running.child.kill('SIGINT');
    expectInterrupted(await running.done);
  });
});
