import type { ProgressCounters } from '../../src/cli/progress-counters.js';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreloadReport } from '../../src/k8s/index.js';
import { readTar, writeTar } from '../bundle/fixtures.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { requireCapability, requirePeer, run } from '../rig/peers.js';
import { startContainerd, type Containerd } from '../server/containerd-daemon.js';

// `ferry k8s preload` into a real containerd: a bundle exported from the rig's
// registry (OCI image, multi-arch index, Docker schema2, Windows with a foreign
// layer, a cosign signature tag) lands in the namespace CRI reads, under the
// exported names and with the rig's digests; a damaged or wrongly signed
// bundle leaves containerd without a single new image.

const canRun =
  rigContext().available &&
  requirePeer('containerd', 'containerd') &&
  requirePeer('ctr', 'containerd') &&
  requireCapability('root (containerd runs as root)', process.getuid?.() === 0, 'run the tests as root');
const KEYS = ['appA', 'multi', 'docker', 'windows', 'signature'] as const;

describe.skipIf(!canRun)('ferry k8s preload', () => {
  let work: string;
  let containerd: Containerd;
  let bundle: string;
  let key: string;
  const ctr = (ns: string, ...args: string[]) => run('ctr', ['-a', containerd.socket, '-n', ns, ...args]);
  const name = (ref: string) => `${seededRig().source.host}/${ref}`;

  /** name → digest as `ctr images ls` shows them in `ns`. */
  async function imageList(ns: string): Promise<Map<string, string>> {
    const ls = await ctr(ns, 'images', 'ls');
    expect(ls.code, ls.stderr).toBe(0);
    return new Map(ls.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)).map((f) => [f[0] ?? '', f[2] ?? '']));
  }
  async function content(ns: string): Promise<Set<string>> {
    return new Set((await ctr(ns, 'content', 'ls', '-q')).stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  }
  const preload = (...args: string[]) => ferry(['k8s', 'preload', ...args, '--address', containerd.socket, '--json']);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-k8s-preload-'));
    const rig = seededRig();
    key = join(work, 'site');
    expect((await ferry(['keygen', '-o', key])).code).toBe(0);
    bundle = join(work, 'images.tar');
    const spec = join(work, 'node-images.yaml');
    await writeFile(spec, `images:\n${KEYS.map((k) => `  - ref: ${name(rig.images.images[k].reference)}\n`).join('')}`);
    const exported = await ferry(['export', '-f', spec, '-o', bundle, '--plain-http', '--sign', `${key}.key`, '--store', join(work, 'store')]);
    if (exported.code !== 0) throw new Error(exported.stderr);
    containerd = await startContainerd();
  });
  afterAll(async () => {
    await containerd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('loads every image into k8s.io under its exported name with the rig digest, every blob in the content store', async () => {
    const r = await preload(bundle, '--key', `${key}.pub`);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json as PreloadReport;
    expect(report).toMatchObject({ namespace: 'k8s.io', dryRun: false, skipped: [], bundle: { signature: 'verified' } });
    // Issue 13.1/15.2: the push into containerd announced its total before a byte moved, and moved exactly that.
    const { progress } = r.json as { progress: ProgressCounters };
    expect(progress.phases.map((p) => p.phase)).toEqual(['push']);
    expect(progress.phases[0]).toEqual({ phase: 'push', items: report.blobs.count, total: report.blobs.bytes, moved: report.blobs.bytes });
    const { images } = seededRig().images;
    const listed = await imageList('k8s.io');
    const held = await content('k8s.io');
    for (const k of KEYS) {
      expect(listed.get(name(images[k].reference)), k).toBe(images[k].digest);
      for (const d of [...images[k].manifests, ...images[k].blobs]) expect(held.has(d.digest), `${k} ${d.digest}`).toBe(true);
    }
    expect(report.images.map((i) => i.name).sort()).toEqual(KEYS.map((k) => name(images[k].reference)).sort());
    expect(report.images.find((i) => i.digest === images.multi.digest)?.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    // The ferry/* entries did not become stray content (ctr stores every tar entry it reads).
    const ferryEntries = (await readTar(bundle)).filter((e) => e.header.name.startsWith('ferry/'));
    expect(ferryEntries.length).toBeGreaterThanOrEqual(3);
    for (const e of ferryEntries) expect(held.has(`sha256:${createHash('sha256').update(e.data).digest('hex')}`), e.header.name).toBe(false);
    // Preloading again is harmless: same names, same digests.
    expect((await preload(bundle)).code).toBe(0);
    expect(await imageList('k8s.io')).toEqual(listed);
  });

  it('--platform linux/arm64 carries the index with only the arm64 content; images of no selected platform are skipped', async () => {
    const r = await preload(bundle, '--namespace', 'arm', '--platform', 'linux/arm64');
    expect(r.code, r.stderr).toBe(0);
    const report = r.json as PreloadReport;
    const { multi, appA, docker, windows, signature } = seededRig().images.images;
    expect(report.images.map((i) => i.name).sort()).toEqual([name(multi.reference), name(signature.reference)].sort());
    expect(report.skipped.map((s) => s.name).sort()).toEqual([appA, docker, windows].map((i) => name(i.reference)).sort());
    expect((await imageList('arm')).get(name(multi.reference))).toBe(multi.digest);
    const held = await content('arm');
    /** Config and layers of a platform manifest, read back from containerd. */
    const children = async (digest: string): Promise<string[]> => {
      const got = await ctr('arm', 'content', 'get', digest);
      const m = JSON.parse(got.stdout) as { config: { digest: string }; layers: Array<{ digest: string }> };
      return [m.config.digest, ...m.layers.map((l) => l.digest)];
    };
    const arm = multi.manifests.find((m) => m.platform?.architecture === 'arm64')?.digest ?? '';
    const amd = multi.manifests.find((m) => m.platform?.architecture === 'amd64')?.digest ?? '';
    // Every manifest goes (ctr reads each child of the index), configs and layers only for arm64.
    expect([held.has(multi.digest), held.has(arm), held.has(amd)]).toEqual([true, true, true]);
    expect((await children(arm)).every((d) => held.has(d))).toBe(true);
    expect((await children(amd)).some((d) => held.has(d))).toBe(false);
  });

  it('--registry renames as import would, --pin labels against kubelet image GC; a split bundle streams its volumes', async () => {
    const split = join(work, 'split', 'images');
    await run('mkdir', ['-p', join(work, 'split')]);
    const { images } = seededRig().images;
    const exported = await ferry(['export', name(images.appA.reference), '-o', split, '--split', '64K', '--plain-http', '--store', join(work, 'store')]);
    expect(exported.code, exported.stderr).toBe(0);
    expect((await readdir(join(work, 'split'))).filter((f) => /\.\d{3}$/.test(f)).length).toBeGreaterThan(2);
    const r = await preload(`${split}.000`, '--namespace', 'site', '--registry', 'site.example/mirror', '--pin');
    expect(r.code, r.stderr).toBe(0);
    const renamed = `site.example/mirror/${images.appA.reference}`;
    expect((await imageList('site')).get(renamed)).toBe(images.appA.digest);
    const ls = await ctr('site', 'images', 'ls');
    expect(ls.stdout.split('\n').find((l) => l.startsWith(renamed))).toContain('io.cri-containerd.pinned=pinned');
  });

  it('a damaged layer fails the preload (exit 5, blob named): no image is created and the damaged bytes never land', async () => {
    const entries = await readTar(bundle);
    const last = entries.at(-1);
    if (!last) throw new Error('empty bundle');
    const data = Buffer.from(last.data);
    data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 0xff;
    last.data = data;
    const damaged = join(work, 'damaged.tar');
    await writeTar(damaged, entries);
    const r = await preload(damaged, '--namespace', 'damaged');
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain(last.header.name);
    expect((await imageList('damaged')).size).toBe(0);
    const bad = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    expect((await content('damaged')).has(bad)).toBe(false);
  });

  it('a wrong key is refused before containerd is touched; dry runs and unreachable sockets say what they mean', async () => {
    const other = join(work, 'other');
    expect((await ferry(['keygen', '-o', other])).code).toBe(0);
    const wrong = await preload(bundle, '--namespace', 'wrongkey', '--key', `${other}.pub`);
    expect(wrong.code).toBe(5);
    expect((await ctr('wrongkey', 'images', 'ls', '-q')).stdout.trim()).toBe('');
    const dry = await ferry(['k8s', 'preload', bundle, '--address', join(work, 'nothing.sock'), '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect((dry.json as PreloadReport).images).toHaveLength(KEYS.length);
    const unreachable = await ferry(['k8s', 'preload', bundle, '--address', join(work, 'nothing.sock')]);
    expect(unreachable.code).toBe(6);
    expect(unreachable.stderr).toContain('cannot reach containerd');
  });
});
