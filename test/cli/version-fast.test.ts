import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FERRY_BIN } from '../helpers/ferry-cli.js';

// `ferry --version` is answered by bin/ferry.js from package.json alone: proven
// by running the launcher where there is no dist/ to load at all.

describe('ferry --version', () => {
  it('answers from package.json without loading the CLI', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-version-'));
    try {
      await mkdir(join(dir, 'bin'));
      await copyFile(FERRY_BIN, join(dir, 'bin', 'ferry.js'));
      await copyFile(join(FERRY_BIN, '..', '..', 'package.json'), join(dir, 'package.json'));
      const { version } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string };
      expect(execFileSync(process.execPath, [join(dir, 'bin', 'ferry.js'), '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe(`${version}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
