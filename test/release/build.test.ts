import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { buildRelease, checkRelease, parseManifest, runningRelease, type BuiltRelease } from '../../src/release/index.js';
import { workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { readTarGz, REPO_ROOT, type TarGzEntry } from './release-kit.js';

// `npm run release`, built twice from this checkout: the same bytes both times,
// holding exactly what ferry needs to run (the node binary running this test,
// dist/, the production dependencies' runtime files, the launcher, licences, a
// file list), with normalised tar headers; and an unpacked release runs, and
// packs itself again byte for byte.

const MAX_BYTES = 45 * 1000 * 1000;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('the release (npm run release)', () => {
  let work: WorkDir;
  let first: BuiltRelease;
  let second: BuiltRelease;
  let entries: TarGzEntry[];
  const unpacked = () => work.path('unpacked', 'ferry');

  beforeAll(async () => {
    work = await workDir('ferry-release-build-');
    // One after the other: both builds hash and gzip ~100 MB, and the machine is shared.
    first = await buildRelease(REPO_ROOT, work.path('one'));
    second = await buildRelease(REPO_ROOT, work.path('two'));
    entries = await readTarGz(first.path, ['ferry/RELEASE.json', 'ferry/SHA256SUMS', 'ferry/bin/ferry']);
    await mkdir(work.path('unpacked'));
    execFileSync('tar', ['-xzf', first.path, '-C', work.path('unpacked')]);
  }, 300_000);

  afterAll(async () => {
    await work?.cleanup();
  });

  it('is reproducible: two builds of one checkout are byte-identical, and small enough', () => {
    const facts = { name: first.plan.fileName, size: first.size, sha256: [first.sha256, second.sha256] };
    console.log(`release: ${JSON.stringify(facts)}`);
    expect(first.plan.fileName).toBe(`ferry-${first.plan.manifest.version}-${process.platform}-${process.arch}.tar.gz`);
    expect(sha256(first.path)).toBe(first.sha256);
    expect(sha256(second.path)).toBe(first.sha256);
    expect(readFileSync(first.path).equals(readFileSync(second.path))).toBe(true);
    expect(first.size).toBeLessThanOrEqual(MAX_BYTES);
    // gzip header: no FNAME/FCOMMENT flags, mtime 0.
    const head = readFileSync(first.path).subarray(0, 10);
    expect([head[0], head[1], head[2], head[3]]).toEqual([0x1f, 0x8b, 8, 0]);
    expect(head.readUInt32LE(4)).toBe(0);
  });

  it('has normalised headers: sorted, under ferry/, mtime SOURCE_DATE_EPOCH (the commit time), root-owned, 0755 or 0644', () => {
    const epoch = Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: REPO_ROOT }).toString().trim());
    expect(first.plan.manifest.sourceDateEpoch).toBe(epoch);
    const names = entries.map((e) => e.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(names.every((n) => n.startsWith('ferry/'))).toBe(true);
    for (const e of entries) {
      expect({ name: e.name, mtime: e.mtime, uid: e.uid, gid: e.gid, uname: e.uname, gname: e.gname }).toEqual({ name: e.name, mtime: epoch, uid: 0, gid: 0, uname: '', gname: '' });
      expect(['file', 'directory']).toContain(e.type);
      expect(e.type === 'directory' ? [0o755] : [0o755, 0o644]).toContain(e.mode);
    }
    const executables = entries.filter((e) => e.type === 'file' && e.mode === 0o755).map((e) => e.name);
    expect(executables.sort()).toEqual(['ferry/bin/ferry', 'ferry/node/bin/node']);
  });

  it('carries the node binary running this test, dist/ as JavaScript, the launcher and the licences', () => {
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get('ferry/node/bin/node')?.sha256).toBe(sha256(process.execPath));
    expect(byName.get('ferry/dist/cli/main.js')?.sha256).toBe(sha256(join(REPO_ROOT, 'dist', 'cli', 'main.js')));
    expect(byName.get('ferry/package.json')?.sha256).toBe(sha256(join(REPO_ROOT, 'package.json')));
    expect([...byName.keys()].some((n) => /^ferry\/dist\/.*\.(map|d\.ts)$/.test(n))).toBe(false);
    // bin/ferry.cjs loads the bundle through bin/code-cache.cjs; the cache itself differs from build to build: left out.
    expect(byName.get('ferry/bin/code-cache.cjs')?.sha256).toBe(sha256(join(REPO_ROOT, 'bin', 'code-cache.cjs')));
    expect([...byName.keys()].filter((n) => n.startsWith('ferry/dist/cli-bundle/code-cache/'))).toEqual([]);
    expect(byName.get('ferry/LICENSES/node.txt')?.size).toBeGreaterThan(10_000);
    const launcher = byName.get('ferry/bin/ferry')?.data?.toString() ?? '';
    expect(launcher.startsWith('#!/bin/sh\n')).toBe(true);
    expect(launcher).toContain('exec "$root/node/bin/node" "$root/bin/ferry.cjs" "$@"');
    expect(launcher).not.toMatch(/\bexec node\b|env node/);
  });

  it('holds the production dependencies only, each with its licence; better-sqlite3 as lib/ and its compiled .node, no C sources or objects', () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const names = entries.map((e) => e.name);
    const packageDirs = new Set(names.filter((n) => n.endsWith('/package.json') && n.startsWith('ferry/node_modules/')).map((n) => n.slice('ferry/'.length, -'/package.json'.length)));
    const prod = Object.entries(lock.packages).filter(([dir, p]) => dir.startsWith('node_modules/') && !p.dev).map(([dir]) => dir);
    for (const dir of prod) expect(packageDirs.has(dir), `${dir} is carried`).toBe(true);
    const dev = Object.entries(lock.packages).filter(([dir, p]) => dir.startsWith('node_modules/') && p.dev).map(([dir]) => dir);
    for (const dir of dev) expect(names.some((n) => n.startsWith(`ferry/${dir}/`)), `${dir} (dev) is left out`).toBe(false);
    const licences = readFileSync(join(unpacked(), 'LICENSES', 'README'), 'utf8');
    for (const dir of prod) expect(licences).toMatch(new RegExp(`: ${dir.replace(/[/.]/g, '\\$&')}/(licen[cs]e|copying|notice)`, 'i'));

    const sqlite = names.filter((n) => n.startsWith('ferry/node_modules/better-sqlite3/') && !n.endsWith('/'));
    expect(sqlite.filter((n) => !n.startsWith('ferry/node_modules/better-sqlite3/lib/')).sort()).toEqual([
      'ferry/node_modules/better-sqlite3/LICENSE',
      'ferry/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'ferry/node_modules/better-sqlite3/package.json',
    ]);
    expect(names.some((n) => /\.(c|cc|h|o|a|gyp)$|\/deps\/|\/obj(\.target)?\//.test(n))).toBe(false);
  });

  it('lists every file with mode, size and sha256 (RELEASE.json, SHA256SUMS) and states the floor it needs', () => {
    const manifest = parseManifest(entries.find((e) => e.name === 'ferry/RELEASE.json')?.data ?? Buffer.alloc(0));
    const files = entries.filter((e) => e.type === 'file' && e.name !== 'ferry/RELEASE.json' && e.name !== 'ferry/SHA256SUMS');
    expect(manifest.files.map((f) => `ferry/${f.path} ${f.mode} ${f.size} ${f.sha256}`)).toEqual(files.map((e) => `${e.name} 0${e.mode.toString(8)} ${e.size} ${e.sha256}`));
    expect(manifest).toMatchObject({ name: 'ferry', os: process.platform, arch: process.arch, node: process.version });
    const checked = spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: unpacked(), encoding: 'utf8' });
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    expect(readFileSync(join(unpacked(), 'SHA256SUMS'), 'utf8')).toContain('  RELEASE.json\n');
    if (process.platform === 'linux') {
      // What objdump says the two binaries need; the floor is the higher of them.
      const node = manifest.files.find((f) => f.path === 'node/bin/node')?.requires;
      const addon = manifest.files.find((f) => f.path.endsWith('better_sqlite3.node'))?.requires;
      expect(node?.GLIBC).toMatch(/^2\.\d+$/);
      expect(addon?.GLIBC).toMatch(/^2\.\d+$/);
      const higher = [node?.GLIBC, addon?.GLIBC].sort((a, b) => Number(a?.split('.')[1]) - Number(b?.split('.')[1]))[1];
      expect(manifest.requires.GLIBC).toBe(higher);
      const objdump = spawnSync('objdump', ['-T', process.execPath], { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (objdump.status === 0) {
        const versions = [...new Set(objdump.stdout.match(/GLIBC_2\.\d+/g) ?? [])].map((v) => Number(v.split('.')[1]));
        expect(node?.GLIBC).toBe(`2.${Math.max(...versions)}`);
      }
    }
  });

  it('runs unpacked, from its launcher and through a symbolic link, with its own node', async () => {
    const version = spawnSync(join(unpacked(), 'bin', 'ferry'), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: work.dir } });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(first.plan.manifest.version);
    // Any other command runs the CLI bundle, through bin/code-cache.cjs (a release carries no cache: the chunks compile).
    const help = spawnSync(join(unpacked(), 'bin', 'ferry'), ['--help'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: work.dir } });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('inspect');
    await mkdir(work.path('bin'));
    await symlink(join(unpacked(), 'bin', 'ferry'), work.path('bin', 'ferry'));
    const linked = spawnSync(work.path('bin', 'ferry'), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: work.dir } });
    expect(linked.status, linked.stderr).toBe(0);
    // NODE_OPTIONS could load code from outside the release: the launcher clears it.
    const hostile = spawnSync(join(unpacked(), 'bin', 'ferry'), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--require ${work.path('nowhere.js')}` } });
    expect(hostile.status, hostile.stderr).toBe(0);
  });

  it('checkRelease accepts it and refuses a misnamed or altered copy', async () => {
    const info = await checkRelease(first.path);
    expect(info).toMatchObject({ version: first.plan.manifest.version, os: process.platform, arch: process.arch, size: first.size, digest: `sha256:${first.sha256}` });

    const misnamed = work.path('ferry-9.9.9-linux-x64.tar.gz');
    await cp(first.path, misnamed);
    await expect(checkRelease(misnamed)).rejects.toMatchObject({ exitCode: ExitCode.integrity, message: expect.stringContaining('not what its name says') });

    const altered = work.path('altered');
    await cp(work.path('unpacked'), altered, { recursive: true });
    await writeFile(join(altered, 'ferry', 'dist', 'cli', 'main.js'), '// changed\n', { flag: 'a' });
    const repacked = work.path(first.plan.fileName);
    execFileSync('tar', ['-I', 'gzip -1', '-cf', repacked, '-C', altered, 'ferry']);
    await expect(checkRelease(repacked)).rejects.toMatchObject({ exitCode: ExitCode.integrity, message: expect.stringContaining('ferry/dist/cli/main.js does not match RELEASE.json') });
    await expect(checkRelease(join(REPO_ROOT, 'package.json'))).rejects.toMatchObject({ exitCode: ExitCode.usage });
  });

  it('an unpacked release packs itself again, byte for byte, and refuses when one of its files was changed', async () => {
    const scratch = work.path('repack');
    await mkdir(scratch);
    const again = await runningRelease(scratch, unpacked());
    expect(sha256(again)).toBe(first.sha256);

    const changed = work.path('changed');
    await cp(work.path('unpacked'), changed, { recursive: true });
    const main = join(changed, 'ferry', 'dist', 'cli', 'main.js');
    await writeFile(main, `${await readFile(main, 'utf8')}// changed\n`);
    await rm(join(scratch, first.plan.fileName));
    await expect(runningRelease(scratch, join(changed, 'ferry'))).rejects.toMatchObject({ exitCode: ExitCode.integrity, message: expect.stringContaining('changed while the release was built') });
  });
});
