import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rigContext } from '../rig/context.js';
import { run } from '../rig/peers.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// A 1 GiB blob, generated as a stream, pushed in chunks and pulled back by the
// compiled client in a child process: the digest round-trips and the process's
// memory stays flat (growth well under 100 MB), i.e. nothing buffers a layer.

const GiB = 1024 * 1024 * 1024;
const MB = 1000 * 1000;
const dist = join(import.meta.dirname, '../../dist/registry/client/index.js');

describe.skipIf(!rigContext().available)('1 GiB blob', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('pushes in chunks and pulls with flat memory', { timeout: 600_000 }, async () => {
    expect(existsSync(dist), 'build first: npx tsc -p . (npm test does)').toBe(true);
    const result = await run(process.execPath, [join(import.meta.dirname, 'fixtures/big-blob.mjs'), registry.host, String(GiB)], { timeoutMs: 580_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const r = JSON.parse(result.stdout) as { digest: string; exists: boolean; pulledDigest: string; pulledBytes: number; patches: number; baseline: number; peak: number; maxRSS: number };
    expect(r.exists).toBe(true);
    expect(r.pulledBytes).toBe(GiB);
    expect(r.pulledDigest).toBe(r.digest);
    expect(r.patches).toBe(GiB / (16 * 1024 * 1024)); // default chunk size 16 MiB
    expect(r.peak - r.baseline).toBeLessThan(100 * MB);
    expect(r.maxRSS - r.baseline).toBeLessThan(100 * MB);
    console.log(`1 GiB: rss baseline ${(r.baseline / MB).toFixed(0)} MB, peak growth ${((r.peak - r.baseline) / MB).toFixed(1)} MB, maxRSS growth ${((r.maxRSS - r.baseline) / MB).toFixed(1)} MB`);
  });
});
