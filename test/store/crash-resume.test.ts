import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaType, NotFoundError, parseDigest, type Descriptor } from '../../src/core/index.js';
import { killOnExit } from '../rig/child-reaper.js';
import { patternDigest, patternStream } from './fixtures/pattern-source.mjs';
import { blobFiles, ingestFiles, tempStore } from './helpers/store-fixtures.js';

const SIZE = 64 * 1024 * 1024;
const STALL_AT = 24 * 1024 * 1024 + 12_345; // not on a chunk boundary
const CHILD = fileURLToPath(new URL('./fixtures/ingest-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/store/index.js', import.meta.url));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Resolves with the first stdout line starting with `prefix`; rejects with stderr if the child exits first. */
function waitForLine(child: ReturnType<typeof spawn>, prefix: string): Promise<string> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stdout = child.stdout;
  if (!stdout) throw new Error('child has no stdout pipe');
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    lines.on('line', (line) => {
      if (line.startsWith(prefix)) resolve(line);
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before '${prefix}': ${stderr}`)));
  });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

describe('crash safety', () => {
  it('a child SIGKILLed mid-ingest of a 64 MiB blob leaves no visible blob, and the rerun resumes from its offset', async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first (npx tsc -p /work/main)`);
    const digest = parseDigest(await patternDigest(SIZE));
    const desc: Descriptor = { mediaType: MediaType.ociLayer, digest, size: SIZE };
    const t = await tempStore();
    cleanups.push(t.cleanup);

    const child = spawn(process.execPath, [CHILD, t.dir, digest, String(SIZE), String(STALL_AT)], { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(child);
    const stalled = await waitForLine(child, 'stalled ');
    expect(Number(stalled.split(' ')[1])).toBe(STALL_AT);

    // While the child lives, its ingest is locked across processes, and a GC leaves its partial alone.
    await expect(t.store.ingests.open(digest)).rejects.toMatchObject({ code: 'ERR_STORE_LOCKED' });
    await t.store.gc({ graceMs: 0 });
    expect(await t.store.ingests.status(digest)).toMatchObject({ offset: STALL_AT, active: true });

    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(child.signalCode).toBe('SIGKILL');

    // Nothing partial is visible as a blob.
    expect(t.store.hasBlob(digest)).toBe(false);
    expect(await blobFiles(t.dir)).toEqual([]);
    await expect(t.store.openBlob(digest)).rejects.toBeInstanceOf(NotFoundError);
    expect(await t.store.ingests.status(digest)).toMatchObject({ offset: STALL_AT, active: false, expected: { digest, size: SIZE } });
    expect(await t.store.resumeOffset(desc)).toBe(STALL_AT);

    // The rerun asks the source only for the missing bytes (HTTP Range style).
    let read = 0;
    let openedAt = -1;
    const result = await t.store.writeBlob(desc, async (offset) => {
      openedAt = offset;
      return patternStream(SIZE, offset, { onRead: (n) => (read += n) });
    });
    expect(openedAt).toBe(STALL_AT);
    expect(result).toEqual({ written: SIZE - STALL_AT, resumedFrom: STALL_AT, existed: false });
    expect(read).toBe(SIZE - STALL_AT);
    expect(read).toBeLessThan(SIZE);

    expect(t.store.hasBlob(digest)).toBe(true);
    const path = t.store.blobPath(digest);
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    expect(await sha256File(path)).toBe(digest);
    expect(await ingestFiles(t.dir)).toEqual([]);
    expect(await t.store.ingests.status(digest)).toBeUndefined();
  }, 120_000);

  it('a rerun whose source can only start at byte 0 skips the bytes the partial already holds', async () => {
    const size = 3 * 1024 * 1024 + 7;
    const digest = parseDigest(await patternDigest(size));
    const desc: Descriptor = { mediaType: MediaType.ociLayer, digest, size };
    const t = await tempStore();
    cleanups.push(t.cleanup);
    // An interrupted in-process write: the first PART bytes (the pattern's prefix), then the writer closes.
    const PART = 1024 * 1024 + 3;
    const writer = await t.store.ingests.open(digest, { expected: { digest, size } });
    await pipeline(patternStream(PART), writer.stream());
    await writer.close();
    expect(await t.store.resumeOffset(desc)).toBe(PART);
    const result = await t.store.writeBlob(desc, patternStream(size));
    expect(result).toEqual({ written: size - PART, resumedFrom: PART, existed: false });
    expect(await sha256File(t.store.blobPath(digest))).toBe(digest);
  });
});
