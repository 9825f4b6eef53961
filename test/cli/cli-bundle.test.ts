import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar, writeTar } from '../bundle/fixtures.js';
import { FERRY_BIN } from '../helpers/ferry-cli.js';
import { preloadAndSmallBundle, type PreloadAndBundle } from '../helpers/preload-bundle.js';
import { sourceRefs } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// bin/ferry.cjs runs the CommonJS bundle of the CLI (dist/cli-bundle/, made by
// `npm run build` after tsc) while it is fresh, and dist/cli/main.js
// otherwise: a bundle older than what it was made from must never run. Which
// one ran is read from the child's require.cache at exit (a -r preload), and
// which files a worker thread compiled as CommonJS from the same preload,
// which worker threads inherit.

const ROOT = join(FERRY_BIN, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The CLI ran from dist/cli-bundle/. */
  bundled: boolean;
  /** Every CommonJS file (and addon) the main thread loaded. */
  required: string[];
  /** The CommonJS files worker threads loaded (an ES module worker loads none). */
  workerFiles: string[];
}

let work: PreloadAndBundle['work'];
let preload: string;
let small: string;

function runFerry(bin: string, args: string[]): Run {
  const r = spawnSync(process.execPath, ['-r', preload, bin, ...args], { encoding: 'utf8', env: { ...process.env, FERRY_STORE: '' } });
  const lines = r.stderr.split('\n');
  const cache = JSON.parse(lines.find((l) => l.startsWith('REQUIRED ['))!.slice('REQUIRED '.length)) as string[];
  const workerFiles = lines.filter((l) => l.startsWith('WORKER ')).map((l) => l.slice('WORKER '.length));
  const stderr = lines.filter((l) => !l.startsWith('REQUIRED [') && !l.startsWith('WORKER ')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr, bundled: cache.some((f) => f.endsWith(join('dist', 'cli-bundle', 'main.cjs'))), required: cache, workerFiles };
}

/** A store holding the small bundle's blobs: `ferry store verify` hashes them on a worker thread whatever their size. */
async function storeOf(bin: string, name: string): Promise<string> {
  const store = join(work.dir, name);
  const r = runFerry(bin, ['import', small, '--to-store', '--store', store]);
  expect(r.code, r.stderr).toBe(0);
  return store;
}

beforeAll(async () => {
  ({ work, preload, small } = await preloadAndSmallBundle('ferry-cli-bundle-', 'required.cjs', [
    "const { writeSync } = require('node:fs');",
    "if (require('node:worker_threads').isMainThread) process.on('exit', () => writeSync(2, '\\nREQUIRED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));",
    "else { const M = require('node:module'); const compile = M.prototype._compile; M.prototype._compile = function (code, file) { writeSync(2, '\\nWORKER ' + file + '\\n'); return compile.call(this, code, file); }; }",
  ]));
}, 60_000);

afterAll(async () => {
  await work?.cleanup();
});

describe('the CLI bundle of a build', () => {
  it('is what bin/ferry.cjs runs after npm run build', () => {
    const r = runFerry(FERRY_BIN, ['inspect', small]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('small.tar');
    expect(r.bundled).toBe(true);
  });

  // better-sqlite3's JavaScript is inlined; its addon is required by path, an input of its chunk in the stamp.
  it('loads better-sqlite3\'s addon by its path, not through the bindings package, and stamps the addon', async () => {
    const r = runFerry(FERRY_BIN, ['inspect', small]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.bundled).toBe(true);
    expect(r.required.filter((f) => f.includes(`${join('node_modules', 'bindings')}`) || f.includes(join('node_modules', 'better-sqlite3', 'lib')))).toEqual([]);
    expect(r.required.filter((f) => f.endsWith('better_sqlite3.node'))).toHaveLength(1);
    const stamp = JSON.parse(await readFile(join(ROOT, 'dist', 'cli-bundle', 'stamp.json'), 'utf8')) as { chunks: Array<{ inputs: Array<[string, number]> }> };
    expect(stamp.chunks.flatMap((c) => c.inputs.map(([path]) => path)).filter((path) => path.endsWith('.node'))).toEqual(['node_modules/better-sqlite3/build/Release/better_sqlite3.node']);
  });

  // Every start-up reads, hashes (bin/code-cache.cjs) and holds the source of the chunks it runs:
  // comments and indentation were ~27 % of those bytes. Names stay (no mangling), so stack traces and
  // error names read as before.
  it('carries its chunks without comments or indentation, names kept', async () => {
    const stamp = JSON.parse(await readFile(join(ROOT, 'dist', 'cli-bundle', 'stamp.json'), 'utf8')) as { chunks: Array<{ file: string }> };
    const main = await readFile(join(ROOT, 'dist', 'cli-bundle', 'main.cjs'), 'utf8');
    expect(main).toContain('function main(');
    for (const { file } of stamp.chunks) {
      const source = await readFile(join(ROOT, 'dist', 'cli-bundle', file), 'utf8');
      // rolldown indents with tabs; the spaces inside template literals (SQL, a shell script) are the program's.
      expect({ file, indented: /^\t/m.test(source), jsdoc: source.includes('/**') }).toEqual({ file, indented: false, jsdoc: false });
    }
  });

  it('starts the hashing worker from its own CommonJS entry (range-worker.cjs), not the ES module in dist/', async () => {
    const r = runFerry(FERRY_BIN, ['store', 'verify', '--store', await storeOf(FERRY_BIN, 'store-fresh')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.bundled).toBe(true);
    expect(r.workerFiles).toContain(join(ROOT, 'dist', 'cli-bundle', 'range-worker.cjs'));
  });

  // export hashes off-thread (bundle/ring-hash-worker.cjs) and verify on the range
  // pool (core/range-worker.cjs): the bundle's own worker entries.
  it.skipIf(!rigContext().available)('exports and verifies from the bundle, and still refuses a tampered blob', async () => {
    const out = join(work.dir, 'app.tar');
    const exported = runFerry(FERRY_BIN, ['export', ...sourceRefs(seededRig(), ['appA']), '-o', out, '--plain-http', '--store', join(work.dir, 'store')]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.bundled).toBe(true);
    const verified = runFerry(FERRY_BIN, ['verify', out]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(': OK');
    expect(verified.bundled).toBe(true);

    const entries = await readTar(out);
    const blob = entries.filter((e) => e.header.name.startsWith('blobs/sha256/')).sort((a, b) => b.data.length - a.data.length)[0]!;
    blob.data[Math.floor(blob.data.length / 2)]! ^= 1;
    const tampered = join(work.dir, 'tampered.tar');
    await writeTar(tampered, entries);
    const refused = runFerry(FERRY_BIN, ['verify', tampered]);
    expect(refused.bundled).toBe(true);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain(blob.header.name.slice('blobs/sha256/'.length));
  }, 120_000);
});

describe('a stale CLI bundle', () => {
  let install: string;
  let bin: string;

  /** A copy of this build (timestamps kept) to change: bin/, dist/, package.json, node_modules linked. */
  async function freshInstall(name: string): Promise<void> {
    install = join(work.dir, name);
    await mkdir(install);
    await cp(join(ROOT, 'bin'), join(install, 'bin'), { recursive: true, preserveTimestamps: true });
    await cp(join(ROOT, 'dist'), join(install, 'dist'), { recursive: true, preserveTimestamps: true });
    await cp(join(ROOT, 'package.json'), join(install, 'package.json'), { preserveTimestamps: true });
    await symlink(join(ROOT, 'node_modules'), join(install, 'node_modules'));
    bin = join(install, 'bin', 'ferry.cjs');
    expect(runFerry(bin, ['inspect', small]).bundled).toBe(true);
  }

  it('falls back to dist/ when a file in dist/ was edited after the bundle was made', async () => {
    await freshInstall('edited');
    const main = join(install, 'dist', 'cli', 'main.js');
    await writeFile(main, `${await readFile(main, 'utf8')}\nprocess.stderr.write('edited dist/cli/main.js\\n');\n`);
    const r = runFerry(bin, ['inspect', small]);
    expect(r.code).toBe(0);
    expect(r.bundled).toBe(false);
    expect(r.stderr).toContain('edited dist/cli/main.js');
  });

  it('falls back to dist/ when tsc rewrote dist/ (same bytes, newer) without bundling', async () => {
    await freshInstall('rebuilt');
    const later = new Date(Date.now() + 5_000);
    await utimes(join(install, 'dist', 'bundle', 'inspect.js'), later, later);
    const r = runFerry(bin, ['inspect', small]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('small.tar');
    expect(r.bundled).toBe(false);
  });

  it('falls back to dist/ when the hashing worker in dist/ is newer than the bundle: the stale worker entry never runs', async () => {
    await freshInstall('worker');
    const store = await storeOf(bin, 'store-worker');
    const later = new Date(Date.now() + 5_000);
    await utimes(join(install, 'dist', 'core', 'range-worker.js'), later, later);
    const r = runFerry(bin, ['store', 'verify', '--store', store]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.bundled).toBe(false);
    expect(r.workerFiles.filter((f) => f.includes('cli-bundle'))).toEqual([]);
  });

  it('falls back to dist/ when the bundle or one of its chunks is missing', async () => {
    await freshInstall('partial');
    const stamp = JSON.parse(await readFile(join(install, 'dist', 'cli-bundle', 'stamp.json'), 'utf8')) as { chunks: Array<{ file: string }> };
    const inspectChunk = stamp.chunks.find((c) => c.file.startsWith('inspect-'))!;
    await rm(join(install, 'dist', 'cli-bundle', inspectChunk.file));
    const partial = runFerry(bin, ['inspect', small]);
    expect(partial.code).toBe(0);
    expect(partial.bundled).toBe(false);
    await rm(join(install, 'dist', 'cli-bundle'), { recursive: true });
    const none = runFerry(bin, ['inspect', small]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('small.tar');
    expect(none.bundled).toBe(false);
  });
});
