import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode, SMALL_BLOB_BYTES, parseDigest } from '../../src/core/index.js';
import { openStore } from '../../src/store/index.js';
import { killOnExit } from '../rig/child-reaper.js';
import { requirePeer, runOk } from '../rig/peers.js';
import { blobFiles, body, config, hexOf, imageManifest, ingestFiles, layer, useTempStores } from './helpers/store-fixtures.js';

// Group commit, seen from the kernel: a child process writes blobs concurrently
// through the compiled store under strace, and the test reads back which fsyncs,
// renames and WAL writes it made, in the order they finished.

const CHILD = fileURLToPath(new URL('./fixtures/commit-group-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/store/index.js', import.meta.url));
const fresh = useTempStores();

interface Call {
  at: number;
  name: string;
  args: string;
}

/** strace -f output → calls in the order they returned (an <unfinished ...> call counts at its "resumed" line). */
function parseStrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, { name: string; args: string }>();
  for (const line of text.split('\n')) {
    const resumed = /^(\d+) +<\.\.\. (\w+) resumed>(.*)$/.exec(line);
    if (resumed) {
      const [, pid = '', name = '', rest = ''] = resumed;
      const started = open.get(pid);
      open.delete(pid);
      if (started?.name === name) calls.push({ at: calls.length, name, args: started.args + rest });
      continue;
    }
    const call = /^(\d+) +(\w+)\((.*)$/.exec(line);
    if (!call) continue;
    const [, pid = '', name = '', args = ''] = call;
    if (args.endsWith('<unfinished ...>')) open.set(pid, { name, args });
    else calls.push({ at: calls.length, name, args });
  }
  return calls;
}

async function straceChild(storeDir: string, count: number, size: number): Promise<{ calls: Call[]; committed: string[] }> {
  const out = join(storeDir, 'strace.txt'); // removed with the store
  const trace = 'fsync,fdatasync,rename,renameat,renameat2,pwrite64';
  const r = await runOk('strace', ['-f', '-y', '-qq', '-e', `trace=${trace}`, '-o', out, process.execPath, CHILD, storeDir, String(count), String(size), 'group']);
  const calls = parseStrace(await readFile(out, 'utf8'));
  return { calls, committed: r.stdout.split('\n').filter((l) => l.startsWith('committed ')).map((l) => l.slice('committed '.length)) };
}

describe.runIf(requirePeer('strace', 'strace'))('group commit', () => {
  // At SMALL_BLOB_BYTES a blob is written whole (store/write-small.ts, a bytes-… temp file); one byte more goes through an ingest.
  it.each([
    ['written whole', SMALL_BLOB_BYTES],
    ['ingested', SMALL_BLOB_BYTES + 1],
  ])('16 blobs (%s) committed at once share directory fsyncs, and no index row is written before its rename is durable', async (_how, size) => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first (npm run build)`);
    const COUNT = 16;
    const { dir, store } = await fresh();
    await store.close(); // the child owns it while it writes
    const { calls, committed } = await straceChild(dir, COUNT, size);
    expect(committed).toHaveLength(COUNT);

    const blobsDir = `${join(dir, 'blobs', 'sha256')}>`;
    const dirSyncs = calls.filter((c) => c.name === 'fsync' && c.args.includes(blobsDir));
    const fileSyncs = calls.filter((c) => (c.name === 'fdatasync' || c.name === 'fsync') && c.args.includes('/ingest/') && c.args.includes('.partial>'));
    const renames = calls.filter((c) => c.name.startsWith('rename') && c.args.includes('/blobs/sha256/'));
    const walWrites = calls.filter((c) => c.name === 'pwrite64' && c.args.includes('index.db-wal>'));
    // One sync per file (no syncfs in Node), but fewer directory fsyncs than blobs.
    expect(fileSyncs).toHaveLength(COUNT);
    expect(renames).toHaveLength(COUNT);
    expect(dirSyncs.length).toBeGreaterThanOrEqual(1);
    expect(dirSyncs.length).toBeLessThan(COUNT);

    for (const rename of renames) {
      // rename("…/ingest/KEY.partial", "…/blobs/sha256/HEX"): its file's sync returned before it…
      const partial = /ingest\/([0-9a-f]{64}|bytes-[0-9a-f-]+)\.partial/.exec(rename.args)?.[1];
      expect(partial).toBeDefined();
      const fileSync = fileSyncs.find((c) => c.args.includes(`/ingest/${partial}.partial>`));
      expect(fileSync?.at).toBeLessThan(rename.at);
      // …and a directory fsync follows it before any WAL write: the row comes after the durable rename.
      const dirSync = dirSyncs.find((c) => c.at > rename.at);
      expect(dirSync).toBeDefined();
      expect(walWrites.filter((w) => w.at > rename.at && w.at < (dirSync?.at ?? 0))).toEqual([]);
    }

    const reopened = await openStore(dir);
    try {
      for (const d of committed) expect(reopened.hasBlob(parseDigest(d))).toBe(true);
      const report = await reopened.verify();
      expect(report.blobs.checked).toBe(COUNT);
      expect(report.ok).toBe(true);
    } finally {
      await reopened.close();
    }
  }, 120_000);

  it('a child SIGKILLed mid-group loses nothing it reported, has no row without its blob, and the rerun completes', async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first (npm run build)`);
    const COUNT = 48;
    const SIZE = 256 * 1024;
    const { dir, store } = await fresh();
    await store.close();

    const child = spawn(process.execPath, [CHILD, dir, String(COUNT), String(SIZE), 'crash'], { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(child);
    const reported: string[] = [];
    const lines = createInterface({ input: child.stdout });
    const killed = new Promise<void>((resolve) => {
      lines.on('line', (line) => {
        if (!line.startsWith('committed ')) return;
        reported.push(line.slice('committed '.length));
        if (reported.length === COUNT / 4) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await Promise.race([killed, once(child, 'exit')]);
    await once(child, 'exit').catch(() => undefined);
    expect(child.signalCode).toBe('SIGKILL');

    const s = await openStore(dir);
    try {
      for (const d of reported) expect(s.hasBlob(parseDigest(d))).toBe(true);
      // Every index row has its complete file; files without a row (renamed, not yet indexed) are only orphans.
      const report = await s.verify();
      expect(report.index).toEqual([]);
      expect(report.blobs.corrupt).toEqual([]);
      expect(report.blobs.checked).toBeGreaterThanOrEqual(reported.length);
      expect((await blobFiles(dir)).length).toBeGreaterThanOrEqual(report.blobs.checked);
    } finally {
      await s.close();
    }

    // The rerun writes the rest (and replaces any orphan with the same bytes).
    const rerun = await runOk(process.execPath, [CHILD, dir, String(COUNT), String(SIZE), 'crash']);
    expect(rerun.stdout).toContain('done');
    const again = await openStore(dir);
    try {
      const report = await again.verify();
      expect(report.ok).toBe(true);
      expect(report.blobs.checked).toBe(COUNT);
      expect(report.blobs.orphanFiles).toBe(0);
      // A sidecar may outlive a commit the kill interrupted; it names a committed blob, for the janitor.
      expect(report.ingests.owned).toBe(0);
      expect(report.ingests.resumable).toBe(0);
    } finally {
      await again.close();
    }
  }, 120_000);
});

describe('group commit, in process', () => {
  it('commits pushed together share a group, but a refused one does not take the others with it', async () => {
    const { store, dir } = await fresh();
    const c = config('group-config');
    const l1 = layer('group-l1', 3000);
    const l2 = layer('group-l2', 5000);
    const shared = layer('group-shared', 7000);
    const good = imageManifest(c, [l1]);
    const bad = imageManifest(c, [layer('group-never-pushed', 100)]);
    for (const b of [c, l1]) await store.repository('team/app').push(b.desc, body(b.bytes));

    // All in flight at once: a blob, the same blob into two repositories, a manifest, and one refused by its check.
    const results = await Promise.allSettled([
      store.repository('team/app').push(l2.desc, body(l2.bytes)),
      store.repository('team/a').push(shared.desc, body(shared.bytes)),
      store.repository('team/b').push(shared.desc, body(shared.bytes)),
      store.repository('team/app').push(good.desc, body(good.bytes)),
      store.repository('team/app').push(bad.desc, body(bad.bytes)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((results[4] as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.blobUnknown });

    for (const b of [l2, good]) expect(await store.repository('team/app').exists(b.desc)).toBe(true);
    for (const repo of ['team/a', 'team/b']) expect(await store.repository(repo).exists(shared.desc)).toBe(true);
    expect(store.manifest(good.desc.digest)).toBeDefined();
    expect(store.hasBlob(bad.desc.digest)).toBe(false);
    const files = await blobFiles(dir);
    expect(files).not.toContain(hexOf(bad.desc.digest));
    expect(files.filter((f) => f === hexOf(shared.desc.digest))).toHaveLength(1);
    expect(await ingestFiles(dir)).toEqual([]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('a store closed while a commit is under way lands it before the index closes', async () => {
    const { store, dir } = await fresh();
    const l = layer('closing-l1', 6000);
    const writer = await store.ingests.open('closing', { expected: { digest: l.desc.digest, size: l.desc.size } });
    await pipeline(body(l.bytes), writer.stream());
    const committed = writer.commit();
    await store.close();
    await expect(committed).resolves.toMatchObject({ digest: l.desc.digest, existed: false });
    const again = await openStore(dir);
    try {
      expect(again.hasBlob(l.desc.digest)).toBe(true);
      expect((await again.verify()).ok).toBe(true);
    } finally {
      await again.close();
    }
  });
});
