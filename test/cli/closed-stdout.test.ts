import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/index.js';
import { tempDir } from '../bundle/fixtures.js';
import { syntheticImages } from '../bundle/synthetic-set.js';
import { FERRY_BIN } from '../helpers/ferry-cli.js';

// `ferry inspect B | head -1`: the reader goes away before ferry writes. That
// is a normal end of a pipeline (exit 0, nothing on stderr), not an EPIPE crash.

let work: Awaited<ReturnType<typeof tempDir>>;
let bundle: string;

beforeAll(async () => {
  work = await tempDir('ferry-closed-stdout-');
  const { images, fetch } = syntheticImages(20);
  bundle = join(work.dir, 'b.tar');
  await writeBundle({ images, fetch, out: bundle, toolVersion: 'test' });
});

afterAll(async () => {
  await work.cleanup();
});

/** Runs ferry with its stdout's reading end closed at once; its exit code and stderr. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], { env: { ...process.env, FERRY_STORE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // before ferry has even started: its first write meets EPIPE
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a closed stdout', () => {
  it.each([[['inspect']], [['inspect', '--json']]])('ferry %j BUNDLE | head: exit 0, quietly', async (args) => {
    const r = await withClosedStdout([...args, bundle]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
