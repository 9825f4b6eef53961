import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type FerryResult } from '../helpers/ferry-cli.js';
import { requirePeer, run } from '../rig/peers.js';
import type { ImageCheck } from '../../src/demo/graph-check.js';

// `ferry demo` through the real CLI, as a newcomer runs it: exit 0, every step
// reported, the same digests on both embedded registries, and nothing left
// behind — no temp directory (TMPDIR is a private empty dir here) and no
// listening server.

const STEPS = ['samples', 'source-registry', 'push', 'keygen', 'export', 'verify', 'target-registry', 'import', 'check', 'cleanup'];

interface DemoJson {
  ok: boolean;
  steps: Array<{ step: string; what: string; ms: number }>;
  dir: string;
  kept: boolean;
  samples: { images: Array<{ name: string; digest: string; platforms: string[] }>; blobs: number; bytes: number };
  registries: { source: string; target: string };
  bundle: { file: string; id: string; blobs: number; keyId: string | null; signature: string };
  images: ImageCheck[];
}

function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let scratch: string;
let tmp: string;
let first: FerryResult;
let report: DemoJson;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ferry-demo-test-'));
  tmp = join(scratch, 'tmp');
  await mkdir(tmp);
  first = await ferry(['demo', '--json'], { env: { TMPDIR: tmp } });
  report = first.json as DemoJson;
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('ferry demo', () => {
  it('exits 0 with a JSON report whose every step is present, in order', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual(STEPS);
    for (const s of report.steps) {
      expect(s.what.length).toBeGreaterThan(0);
      expect(Number.isInteger(s.ms) && s.ms >= 0).toBe(true);
    }
  });

  it('lands both images on the target with the digests they were built with', () => {
    expect(report.images.map((i) => i.source.replace(/^[^/]+\//, ''))).toEqual(['demo/hello:1.0', 'demo/tools:1.0']);
    for (const [i, image] of report.images.entries()) {
      expect(image.equal).toBe(true);
      expect(image.builtDigest).toBe(report.samples.images[i]?.digest);
      expect(image.sourceDigest).toBe(image.builtDigest);
      expect(image.targetDigest).toBe(image.builtDigest);
      // Retargeted under the prefix, repository path and tag kept.
      expect(image.target).toBe(`${new URL(report.registries.target).host}/mirror/${image.source.replace(/^[^/]+\//, '')}`);
    }
    // index + 2 × (manifest, config, base, app layer) − the shared base once; manifest + config + 2 layers.
    expect(report.images.map((i) => i.nodes)).toEqual([8, 4]);
    expect(report.samples.images[0]?.platforms).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it('exports a signed bundle that carries the shared base layer once', () => {
    expect(report.bundle.signature).toBe('verified');
    expect(report.bundle.keyId).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(report.samples.blobs).toBe(11);
    expect(report.bundle.blobs).toBe(report.samples.blobs);
  });

  it('leaves no temp directory and no listening server behind', async () => {
    expect(report.kept).toBe(false);
    expect(await readdir(tmp)).toEqual([]);
    expect(await listening(report.registries.source)).toBe(false);
    expect(await listening(report.registries.target)).toBe(false);
  });

  it('prints the step table and the verdict for a person', async () => {
    const human = await ferry(['demo'], { env: { TMPDIR: tmp } });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^STEP +TIME +WHAT$/m);
    for (const step of STEPS) expect(human.stdout).toMatch(new RegExp(`^${step} +\\d+\\.\\d\\d s  \\S`, 'm'));
    expect(human.stdout).toContain('OK: 2 images made the trip');
    expect(human.stderr).not.toContain('ferry: debug:');
    expect(await readdir(tmp)).toEqual([]);
  });

  it('--debug: what the push, export and import inside it decide, step by step, as ferry export --debug shows them', async () => {
    const r = await ferry(['demo', '--json', '--debug'], { env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    const debug = r.stderr.split('\n').filter((l) => l.startsWith('ferry: debug: '));
    const at = (line: string): number => debug.indexOf(`ferry: debug: ${line}`);
    // Each step announced, in order.
    const steps = STEPS.map((s) => at(`demo step ${s}`));
    expect(steps.every((i) => i >= 0), debug.join('\n')).toBe(true);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    const images = (r.json as DemoJson).images;
    const [hello, tools] = images.map((i) => i.builtDigest);
    // push: the shared base layer mounted into the second repository, not sent again.
    const push = debug.slice(at('demo step push'), at('demo step keygen'));
    expect(push.filter((l) => /^ferry: debug: mounted sha256:[0-9a-f]{64} \(\d+ bytes\) in demo\/tools$/.test(l))).toHaveLength(1);
    expect(push).toContain(`ferry: debug: tagged demo/tools:1.0 → ${tools}`);
    // export: its phases and plan; import: its tags, last.
    const exp = debug.slice(at('demo step export'), at('demo step verify'));
    expect(exp.some((l) => l.startsWith('ferry: debug: phase pull: 2 images'))).toBe(true);
    const imp = debug.slice(at('demo step import'), at('demo step check'));
    expect(imp).toContain(`ferry: debug: tagged mirror/demo/hello:1.0 → ${hello}`);
    expect(imp).toContain(`ferry: debug: tagged mirror/demo/tools:1.0 → ${tools}`);
  });
});

describe('ferry demo --keep', () => {
  let keep: string;
  let kept: DemoJson;

  beforeAll(async () => {
    keep = join(scratch, 'kept');
    const r = await ferry(['demo', '--keep', keep, '--json'], { env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    kept = r.json as DemoJson;
  });

  it('builds byte-identical sample images on every run', () => {
    expect(kept.samples.images).toEqual(report.samples.images);
  });

  it('keeps a bundle that ferry verify and ferry inspect accept with the kept key', async () => {
    expect(kept.kept).toBe(true);
    expect((await readdir(keep)).sort()).toEqual(['demo.key', 'demo.pub', 'demo.tar', 'export-store', 'samples', 'source-store', 'target-store']);
    const verified = await ferry(['verify', join(keep, 'demo.tar'), '--key', join(keep, 'demo.pub'), '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.json).toMatchObject({ ok: true, signature: 'verified', blobs: 11, images: 2 });
    const inspected = await ferry(['inspect', join(keep, 'demo.tar'), '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    const images = (inspected.json as { images: Array<{ name: string; digest: string; platforms: string[] }> }).images;
    expect(images.map((i) => [i.name.replace(/^[^/]+\//, ''), i.digest])).toEqual(kept.samples.images.map((i) => [i.name, i.digest]));
  });

  it.skipIf(!requirePeer('skopeo', 'skopeo'))('keeps a bundle that skopeo reads as an OCI archive (a real peer)', async () => {
    const name = `${new URL(kept.registries.source).host}/demo/hello:1.0`;
    const raw = await run('skopeo', ['inspect', '--raw', `oci-archive:${join(keep, 'demo.tar')}:${name}`]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(`sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`).toBe(kept.samples.images[0]?.digest);
  });

  it('refuses a --keep directory that is not empty, and touches nothing in it', async () => {
    const busy = join(scratch, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'notes.txt'), 'mine');
    const r = await ferry(['demo', '--keep', busy]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ferry: error: cannot use --keep .*busy: it is not empty/m);
    expect(await readdir(busy)).toEqual(['notes.txt']);
    expect(await readFile(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a --keep path it cannot create, with one line and exit 2 (also under --json)', async () => {
    const file = join(scratch, 'a-file');
    await writeFile(file, 'x');
    const r = await ferry(['demo', '--keep', join(file, 'sub'), '--json'], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot use --keep .*: a part of the path is a file, not a directory/);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'ERR_USAGE', exitCode: 2 } });
    expect(await readdir(tmp)).toEqual([]);
  });
});
