import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaType, parseDigest, type Descriptor } from '../../src/core/index.js';
import { killOnExit } from '../rig/child-reaper.js';
import { patternDigest, patternStream } from './fixtures/pattern-source.mjs';
import { body, config, imageManifest, ingestFiles, tempStore, type Blob } from './helpers/store-fixtures.js';

// Issue 11 item 8: after a kill -9 and a successful rerun, `ferry store gc` left
// ingest rows and files behind: the killed run's partial for `team/a@<digest>`
// stays when the rerun gets that blob through another repository and mounts it
// (copyGraph's path). An ingest no process owns whose blob is committed goes;
// one whose blob is still missing stays, resumable.

const CHILD = fileURLToPath(new URL('./fixtures/ingest-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/store/index.js', import.meta.url));
const SIZE = 4 * 1024 * 1024 + 11;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A real process ingesting `size` bytes under `ref`, SIGKILLed once `stallAt` bytes are written. Returns its pid. */
async function killMidIngest(dir: string, digest: string, size: number, stallAt: number, ref: string): Promise<number> {
  const child = spawn(process.execPath, [CHILD, dir, digest, String(size), String(stallAt), ref], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line.startsWith('stalled ') && resolve());
    child.once('exit', () => reject(new Error('the ingest child exited before it stalled')));
  });
  child.kill('SIGKILL');
  await once(child, 'exit');
  return child.pid!;
}

function ingestRows(dir: string): string[] {
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  try {
    return db.prepare<[], { ref: string }>('SELECT ref FROM ingests ORDER BY ref').all().map((r) => r.ref);
  } finally {
    db.close();
  }
}

describe('ingests left by a killed run', () => {
  it('store gc removes those whose blob a rerun committed, and temp files of dead writers; keeps a resumable one', async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: npm run build first`);
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const digest = parseDigest(await patternDigest(SIZE));
    const other = parseDigest(await patternDigest(SIZE + 1));
    const layer: Descriptor = { mediaType: MediaType.ociLayer, digest, size: SIZE };

    // The killed run: two partials (team/a's copy of the shared layer, team/c's of another layer),
    // plus what a kill leaves mid-manifest-commit and mid-sidecar-write, named with the dead pid.
    const pid = await killMidIngest(t.dir, digest, SIZE, 1024 * 1024, `team/a@${digest}`);
    await killMidIngest(t.dir, other, SIZE + 1, 2 * 1024 * 1024, `team/c@${other}`);
    await writeFile(join(t.dir, 'ingest', `bytes-${pid}-0123456789abcdef.partial`), '{"schemaVersion":2}');
    await writeFile(join(t.dir, 'ingest', `${'e'.repeat(64)}.json.${pid}.tmp`), '{"ref":');
    expect(ingestRows(t.dir)).toEqual([`team/a@${digest}`, `team/c@${other}`]);

    // The successful rerun: team/b fetches the shared layer first, team/a mounts it from there, both get tagged.
    const bytes: Buffer[] = [];
    for await (const c of patternStream(SIZE)) bytes.push(c as Buffer);
    const shared: Blob = { desc: layer, bytes: Buffer.concat(bytes) };
    const cfg = config('stale-ingests');
    const m = imageManifest(cfg, [shared]);
    const b = t.store.repository('team/b');
    for (const x of [cfg, shared, m]) await b.push(x.desc, body(x.bytes));
    await b.tag('v1', m.desc);
    const a = t.store.repository('team/a');
    for (const x of [cfg, shared]) expect(await a.mount(x.desc, 'team/b')).toBe(true);
    await a.push(m.desc, body(m.bytes));
    await a.tag('v1', m.desc);

    const dry = await t.store.gc({ dryRun: true });
    expect(ingestRows(t.dir)).toHaveLength(2);
    const report = await t.store.gc();
    expect(ingestRows(t.dir)).toEqual([`team/c@${other}`]);
    const key = t.store.layout.ingestPaths(`team/c@${other}`).key;
    expect(await ingestFiles(t.dir)).toEqual([`${key}.json`, `${key}.partial`]);
    expect(dry.ingests).toMatchObject({ removed: 1, strays: 2 });
    expect(report.ingests).toMatchObject({ removed: 1, bytes: 1024 * 1024, strays: 2 });
    expect(await t.store.repository('team/c').resumeOffset({ mediaType: MediaType.ociLayer, digest: other, size: SIZE + 1 })).toBe(2 * 1024 * 1024);
  });
});
