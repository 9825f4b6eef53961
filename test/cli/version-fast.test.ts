import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FERRY_BIN } from '../helpers/ferry-cli.js';

// `ferry --version` is answered by the launcher (bin/ferry.cjs) from
// package.json alone: proven by running it where there is no dist/ to load at
// all, and by what Node itself loaded for it.

const version = async (root: string) => (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('ferry --version', () => {
  it('answers from package.json without loading the CLI', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-version-'));
    try {
      await mkdir(join(dir, 'bin'));
      await copyFile(FERRY_BIN, join(dir, 'bin', basename(FERRY_BIN)));
      await copyFile(join(FERRY_BIN, '..', '..', 'package.json'), join(dir, 'package.json'));
      expect(execFileSync(process.execPath, [join(dir, 'bin', basename(FERRY_BIN)), '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe(`${await version(dir)}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The ESM loader costs ~20 ms of a start-up that is ~110 ms in all: the entry
  // is CommonJS so that a bare --version never starts it. Node lists the
  // internal modules it loaded in process.moduleLoadList; a CommonJS preload
  // (-r, which does not start the ESM loader itself) reads it at exit.
  it('starts without the ESM loader (the entry is CommonJS)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-version-'));
    try {
      const preload = join(dir, 'loaded.cjs');
      await writeFile(preload, "process.on('exit', () => require('node:fs').writeSync(2, JSON.stringify(process.moduleLoadList)));\n");
      const { stdout, stderr, status } = spawnSync(process.execPath, ['-r', preload, FERRY_BIN, '--version'], { encoding: 'utf8' });
      expect(status).toBe(0);
      expect(stdout).toBe(`${await version(join(FERRY_BIN, '..', '..'))}\n`);
      const loaded = JSON.parse(stderr) as string[];
      // Sanity: the list is real (the CommonJS loader is always there).
      expect(loaded).toContain('NativeModule internal/modules/cjs/loader');
      expect(loaded.filter((m) => /internal\/modules\/esm\/(module_job|translators)$/.test(m))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
