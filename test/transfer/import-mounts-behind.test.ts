import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/core/media-types.js';
import { forwardTo, startFixture, type FixtureServer } from '../client/fixture-server.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, sha256Hex, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 16 (import against the floor): a lane that has sent a blob's bytes takes
// its next upload while the registry mounts that blob into the other
// repositories that need it; it does not wait out the mount round trips (the
// bench's base layer held its lane for seven of them, no bytes moving on it).
// A proxy in front of a real docker-registry holds each mount request a while
// and records which uploads arrived meanwhile. --concurrency 1: one lane, so
// a lane that waited for its mounts sends nothing while one is held.

const REPOS = ['one/app', 'two/app', 'three/app'] as const;
const HOLD_MS = 400;

interface Pushed {
  repository: string;
  digest: string;
  blobs: string[];
}

interface MountHoldProxy extends FixtureServer {
  /** Upload PUTs (?digest=) that arrived while a mount request was held. */
  putsDuringMounts(): number;
  mounts(): number;
}

async function startMountHoldProxy(upstream: URL): Promise<MountHoldProxy> {
  let held = 0;
  let mounts = 0;
  let during = 0;
  const server = await startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (req.method === 'POST' && url.searchParams.has('mount')) {
      mounts += 1;
      held += 1;
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
      held -= 1;
    } else if (req.method === 'PUT' && url.pathname.includes('/blobs/uploads/') && url.searchParams.has('digest') && held > 0) during += 1;
    await forwardTo(upstream, url, req, res);
  });
  return Object.assign(server, { putsDuringMounts: () => during, mounts: () => mounts });
}

/** Three images sharing their largest layer (uploaded first, then mounted twice), each with a small layer and config of its own. */
async function seed(registry: Registry): Promise<Pushed[]> {
  const http = new RegistryHttp(registry);
  try {
    const shared = randomBytes(2 * 1024 * 1024);
    const out: Pushed[] = [];
    for (const repository of REPOS) {
      const layers = [shared, randomBytes(32 * 1024)].map((bytes) => ({ bytes, mediaType: MediaType.ociLayer, digest: `sha256:${sha256Hex(bytes)}`, size: bytes.length }));
      for (const l of layers) await http.pushBlob(repository, l.digest, l.bytes);
      const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }));
      const config = { mediaType: MediaType.ociConfig, digest: `sha256:${sha256Hex(configBytes)}`, size: configBytes.length };
      await http.pushBlob(repository, config.digest, configBytes);
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })) }));
      await http.pushManifest(repository, '1.0', MediaType.ociManifest, manifest);
      out.push({ repository, digest: `sha256:${sha256Hex(manifest)}`, blobs: [config.digest, ...layers.map((l) => l.digest)] });
    }
    return out;
  } finally {
    await http.close();
  }
}

describe.skipIf(!rigContext().available)('an import’s mounts and its uploads', () => {
  let work: WorkDir;
  let images: Pushed[];
  const started: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    work = await workDir('ferry-mounts-behind-');
    const source = await startRegistry();
    started.push(source);
    images = await seed(source);
    expectOk(await ferry(['export', ...REPOS.map((r) => `${source.host}/${r}:1.0`), '-o', work.path('shared.tar'), '--plain-http', '--store', work.path('store')]));
  });

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    await work?.cleanup();
  });

  it('takes the next upload while the registry mounts the last one, and every repository holds its blobs', async () => {
    const target = await startRegistry();
    started.push(target);
    const proxy = await startMountHoldProxy(new URL(target.url));
    started.push(proxy);
    const run = expectOk(await ferry(['import', work.path('shared.tar'), '--to', `${proxy.host}/mirror`, '--plain-http', '--concurrency', '1', '--json'], { timeoutMs: 120_000 }));
    expect((run.json as { failed: unknown[] }).failed).toEqual([]);
    expect(proxy.mounts(), 'the shared layer mounted into the two other repositories').toBe(REPOS.length - 1);
    expect(proxy.putsDuringMounts(), 'uploads sent while a mount was held').toBeGreaterThan(0);
    const view = new TargetView(target);
    try {
      for (const image of images) {
        const repo = `mirror/${image.repository}`;
        expect((await view.manifest(repo, '1.0'))?.digest, `${repo}:1.0`).toBe(image.digest);
        for (const blob of image.blobs) expect(await view.blobStatus(repo, blob), `${blob} in ${repo}`).toBe(200);
      }
    } finally {
      await view.close();
    }
  });
});
