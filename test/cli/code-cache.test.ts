import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FERRY_BIN } from '../helpers/ferry-cli.js';
import { preloadAndSmallBundle, type PreloadAndBundle } from '../helpers/preload-bundle.js';

// The CLI bundle's chunks load through V8's code cache (bin/code-cache.cjs),
// made by `npm run build`. V8 checks a cache against the source's length only
// and not its own bytes: a cache made from other code or damaged must never
// run, the chunk compiles instead. Which chunks came with a cache, and whether
// V8 took it, is read from vm.Script in the child (a -r preload).

const ROOT = join(FERRY_BIN, '..', '..');

/** Per chunk of dist/cli-bundle the main thread compiled: 'used', 'rejected' (by V8) or 'none' (no cache offered). */
type Caches = Record<string, 'used' | 'rejected' | 'none'>;
/** What a run of the CLI reports from its preload. */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  caches: Caches;
  /** The requests chunks of the bundle sent through node's module resolver. */
  resolved: string[];
}

let work: PreloadAndBundle['work'];
let preload: string;
let small: string;

function runFerry(bin: string, args: string[], nodeFlags: string[] = []): Run {
  const r = spawnSync(process.execPath, [...nodeFlags, '-r', preload, bin, ...args], { encoding: 'utf8', env: { ...process.env, FERRY_STORE: '' } });
  const lines = r.stderr.split('\n');
  const reported = (tag: string): unknown => {
    const line = lines.find((l) => l.startsWith(`${tag} `));
    return line ? JSON.parse(line.slice(tag.length + 1)) : undefined;
  };
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: lines.filter((l) => !l.startsWith('CACHES ') && !l.startsWith('RESOLVED ')).join('\n'),
    caches: (reported('CACHES') as Caches | undefined) ?? {},
    resolved: (reported('RESOLVED') as string[] | undefined) ?? [],
  };
}

beforeAll(async () => {
  ({ work, preload, small } = await preloadAndSmallBundle('ferry-code-cache-', 'caches.cjs', [
    "const vm = require('node:vm'); const { writeSync } = require('node:fs'); const { basename, dirname } = require('node:path');",
    'const caches = {};',
    'vm.Script = class extends vm.Script {',
    '  constructor(source, options) {',
    '    super(source, options);',
    "    const file = options && options.filename;",
    "    if (file && basename(dirname(file)) === 'cli-bundle') caches[basename(file)] = !options.cachedData ? 'none' : this.cachedDataRejected ? 'rejected' : 'used';",
    '  }',
    '};',
    // Every request a chunk of the bundle sent through node's resolver (stat, realpath, package scope).
    "const Module = require('node:module'); const resolve = Module._resolveFilename; const resolved = [];",
    "Module._resolveFilename = function (request, parent, ...rest) { if (parent && parent.filename && basename(dirname(parent.filename)) === 'cli-bundle') resolved.push(request); return resolve.call(this, request, parent, ...rest); };",
    "process.on('exit', () => writeSync(2, '\\nCACHES ' + JSON.stringify(caches) + '\\nRESOLVED ' + JSON.stringify(resolved) + '\\n'));",
  ]));
}, 60_000);

afterAll(async () => {
  await work?.cleanup();
});

/** A copy of this build (timestamps kept) to damage: bin/, dist/, package.json, node_modules linked. */
async function copyOfBuild(name: string): Promise<string> {
  const install = join(work.dir, name);
  await mkdir(install);
  await cp(join(ROOT, 'bin'), join(install, 'bin'), { recursive: true, preserveTimestamps: true });
  await cp(join(ROOT, 'dist'), join(install, 'dist'), { recursive: true, preserveTimestamps: true });
  await cp(join(ROOT, 'package.json'), join(install, 'package.json'), { preserveTimestamps: true });
  await symlink(join(ROOT, 'node_modules'), join(install, 'node_modules'));
  return install;
}

/** The file name of the chunk whose name starts with `prefix`. */
async function chunkNamed(install: string, prefix: string): Promise<string> {
  const stamp = JSON.parse(await readFile(join(install, 'dist', 'cli-bundle', 'stamp.json'), 'utf8')) as { chunks: Array<{ file: string }> };
  return stamp.chunks.find((c) => c.file.startsWith(prefix))!.file;
}

describe('the code cache of the CLI bundle', () => {
  it('is what a small inspect and verify compile their chunks from', () => {
    for (const args of [['inspect', small], ['verify', small]]) {
      const r = runFerry(FERRY_BIN, args);
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(r.caches)).toContain('main.cjs');
      expect(Object.entries(r.caches).filter(([, state]) => state !== 'used')).toEqual([]);
    }
  });

  it('loads a chunk\'s sibling chunks by their path, not through node\'s resolver (stat, realpath, package scope)', () => {
    for (const args of [['inspect', small], ['verify', small]]) {
      const r = runFerry(FERRY_BIN, args);
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(r.caches).length).toBeGreaterThan(10);
      // Built-ins and the SQLite addon (by its absolute path) still go through node.
      expect(r.resolved.filter((request) => request.startsWith('./'))).toEqual([]);
    }
  });

  it('never runs for a chunk edited to the same length: the edited chunk runs', async () => {
    const install = await copyOfBuild('edited');
    const inspect = await chunkNamed(install, 'inspect-');
    const path = join(install, 'dist', 'cli-bundle', inspect);
    const before = await stat(path);
    const source = await readFile(path, 'utf8');
    // The column title, a string literal (the minified chunk quotes it with backticks).
    expect(source).toMatch(/[`"]REFERRERS[`"]/);
    await writeFile(path, source.replace(/([`"])REFERRERS([`"])/, '$1REFERENTS$2'));
    await utimes(path, before.atime, before.mtime);
    const r = runFerry(join(install, 'bin', 'ferry.cjs'), ['inspect', small]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('REFERENTS');
    expect(r.stdout).not.toContain('REFERRERS');
    expect(r.caches[inspect]).toBe('none');
    expect(r.caches['main.cjs']).toBe('used');
  });

  it('never runs damaged (V8 would abort on it): the chunk compiles and the command answers', async () => {
    const install = await copyOfBuild('damaged');
    const bundle = await chunkNamed(install, 'bundle-');
    const path = join(install, 'dist', 'cli-bundle', 'code-cache', `${bundle}.v8`);
    const bytes = await readFile(path);
    for (let i = 2000; i < bytes.length; i += 97) bytes[i]! ^= 0x5a;
    await writeFile(path, bytes);
    const r = runFerry(join(install, 'bin', 'ferry.cjs'), ['inspect', small]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('REFERRERS');
    expect(r.caches[bundle]).toBe('none');
  });

  it('made by another V8 (here: other flags) is refused by V8 and the chunks compile', () => {
    const r = runFerry(FERRY_BIN, ['inspect', small], ['--no-flush-bytecode']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('REFERRERS');
    expect(Object.values(r.caches).length).toBeGreaterThan(0);
    expect(Object.values(r.caches).every((state) => state === 'rejected')).toBe(true);
  });
});
