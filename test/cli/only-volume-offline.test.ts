import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBigImage } from '../helpers/big-image.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 11 item 6: a lost volume is re-made from the store alone, with the
// source registry stopped. The store's record of the export pins what the
// bundle holds (images, digests, creation time, tool version); the re-made
// volume is written from store blobs, each checked against its digest, and
// its sha256 checked against the volume list before it takes its name. Only
// that volume is written: no other volume-sized file appears anywhere.

const KiB = 1024;
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under `dir` (recursively) with its size. */
function listing(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else out.set(path, info.size);
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!rigContext().available)('export --only-volume with the source registry stopped', () => {
  let work: WorkDir;
  let source: Registry;
  let originals: Map<string, string>;
  let volumes: string[];
  const out = () => work.path('out');
  const args = () => ['export', `${source.host}/acme/api:1.0`, `${source.host}/acme/web:2.0`, '-o', join(out(), 'b.tar'), '--split', '256k', '--sign', work.path('k.key'), '--plain-http', '--store', work.path('store')];

  const oddArgs = () => ['export', `${source.host}/acme/api:1.0`, `${source.host}/acme/web:2.0`, '-o', work.path('odd', 'o.tar'), '--split', '100001', '--plain-http', '--store', work.path('store')];

  beforeAll(async () => {
    work = await workDir('ferry-only-volume-offline-');
    source = await startRegistry();
    await pushBigImage(source, 'acme/api', '1.0', [700 * KiB, 300 * KiB, 5 * KiB]);
    await pushBigImage(source, 'acme/web', '2.0', [400 * KiB, 90 * KiB]);
    expectOk(await ferry(['keygen', '-o', work.path('k')]));
    expectOk(await ferry(['keygen', '-o', work.path('other')]));
    mkdirSync(out());
    expectOk(await ferry(args()));
    volumes = readdirSync(out()).filter((f) => /^b\.tar\.\d{3}$/.test(f)).sort();
    expect(volumes.length).toBeGreaterThan(4);
    originals = new Map(volumes.map((v) => [v, sha(join(out(), v))]));
    // An odd split: volume edges fall inside headers, padding and blobs alike.
    mkdirSync(work.path('odd'));
    expectOk(await ferry(oddArgs()));
    await source.stop();
  });

  afterAll(async () => {
    await work?.cleanup();
  });

  for (const n of [2, 0]) {
    it(`volume ${n} is re-made byte for byte, offline, and nothing else is written`, async () => {
      const name = `b.tar.00${n}`;
      rmSync(join(out(), name));
      const before = new Map([...listing(work.dir)].filter(([path]) => !path.endsWith(name)));
      const r = expectOk(await ferry([...args(), '--only-volume', String(n)]));
      expect(r.stderr).not.toMatch(/error/);
      expect(sha(join(out(), name))).toBe(originals.get(name));
      // Only that volume is new; nothing else of volume size appeared or grew (store, output, scratch).
      const after = listing(work.dir);
      // (The store's SQLite files may move by a page when it is opened: not volume-sized content.)
      const changed = [...after].filter(([path, size]) => before.get(path) !== size && !/\/index\.db(-wal|-shm)?$/.test(path)).map(([path]) => path);
      expect(changed).toEqual([join(out(), name)]);
      expect([...after].filter(([path]) => !before.has(path)).map(([path]) => path)).toEqual([join(out(), name)]);
      expectOk(await ferry(['verify', join(out(), 'b.tar.000'), '--key', work.path('k.pub')]));
    });
  }

  it('at a split that is no multiple of 512, every volume re-made alone is the original, byte for byte', async () => {
    const odd = readdirSync(work.path('odd')).filter((f) => /^o\.tar\.\d{3}$/.test(f)).sort();
    expect(odd.length).toBeGreaterThan(10);
    for (const [n, name] of odd.entries()) {
      const path = work.path('odd', name);
      const want = sha(path);
      rmSync(path);
      expectOk(await ferry([...oddArgs(), '--only-volume', String(n)]));
      expect(sha(path), name).toBe(want);
    }
  });

  it('refusals: no such volume (2), another or no key for a signed bundle (2), nothing written', async () => {
    expectRefusal(await ferry([...args(), '--only-volume', '99']), 2, 'volume 99');
    const unsigned = args().filter((a, i, all) => a !== '--sign' && all[i - 1] !== '--sign');
    expectRefusal(await ferry([...unsigned, '--only-volume', '1']), 2, '--sign');
    const otherKey = args().map((a) => (a === work.path('k.key') ? work.path('other.key') : a));
    expectRefusal(await ferry([...otherKey, '--only-volume', '1']), 2, '--sign');
    expect(readdirSync(out()).sort()).toEqual([...volumes, 'b.tar.volumes.json', 'b.tar.volumes.json.sig'].sort());
  });

  it('a store blob that no longer matches its digest is refused (5), naming it; the lost volume is not replaced', async () => {
    const store = listing(work.path('store', 'blobs'));
    // The largest blob: a layer, which lies in volumes 1..2.
    const [blob] = [...store].sort((a, b) => b[1] - a[1])[0] as [string, number];
    const saved = readFileSync(blob);
    chmodSync(blob, 0o644);
    const bad = Buffer.from(saved);
    bad[1000] = (bad[1000] ?? 0) ^ 0xff;
    writeFileSync(blob, bad);
    renameSync(join(out(), 'b.tar.001'), work.path('b.tar.001.away'));
    try {
      expectRefusal(await ferry([...args(), '--only-volume', '1']), 5, blob.split('/').at(-1) as string);
      expect(readdirSync(out()).filter((f) => f.startsWith('b.tar.001'))).toEqual([]);
    } finally {
      writeFileSync(blob, saved);
      renameSync(work.path('b.tar.001.away'), join(out(), 'b.tar.001'));
    }
  });

  it('a volume list that pins other bytes: the re-made volume is refused (5) and not left behind', async () => {
    const list = join(out(), 'b.tar.volumes.json');
    const saved = readFileSync(list);
    const doc = JSON.parse(saved.toString('utf8')) as { volumes: Array<{ sha256: string }> };
    (doc.volumes[3] as { sha256: string }).sha256 = 'f'.repeat(64);
    writeFileSync(list, `${JSON.stringify(doc, null, 2)}\n`);
    renameSync(join(out(), 'b.tar.003'), work.path('b.tar.003.away'));
    try {
      expectRefusal(await ferry([...args(), '--only-volume', '3']), 5, 'b.tar.003');
      expect(readdirSync(out()).filter((f) => f.startsWith('b.tar.003'))).toEqual([]);
    } finally {
      writeFileSync(list, saved);
      renameSync(work.path('b.tar.003.away'), join(out(), 'b.tar.003'));
    }
  });
});
