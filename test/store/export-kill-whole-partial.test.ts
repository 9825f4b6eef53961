import { spawn } from 'node:child_process';
import { chmod, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, parseDigest, type Descriptor } from '../../src/core/index.js';
import { createRegistryClient } from '../../src/registry/client/index.js';
import { pushBigImage, type BigImage } from '../helpers/big-image.js';
import { ferry, FERRY_BIN } from '../helpers/ferry-cli.js';
import { workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { killOnExit } from '../rig/child-reaper.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { startHoldingProxy, type HoldingProxy } from './helpers/holding-proxy.js';

// Issue 11 item 7: `ferry export` killed with SIGKILL after a layer's last byte
// reached ingest/<key>.partial and before the commit. The rerun used to ask for
// `Range: bytes=<size>-`, get 416 from the registry and fail the same way on every
// rerun. Now the whole partial is hashed and committed (no byte fetched again),
// or dropped and fetched from 0 when its bytes are wrong.

const MiB = 1024 * 1024;
const LAYER = 8 * MiB + 4321;

describe.skipIf(!rigContext().available)('an export killed with the whole blob in its partial', () => {
  let work: WorkDir;
  let registry: Registry;
  let proxy: HoldingProxy;
  let image: BigImage;
  let layer: { digest: string; size: number };
  const ref = () => `${proxy.host}/${image.repository}:${image.tag}`;
  const exportArgs = (store: string, out: string) => ['export', ref(), '-o', out, '--plain-http', '--no-with-referrers', '--store', store];

  beforeAll(async () => {
    work = await workDir('ferry-kill-whole-');
    registry = await startRegistry({});
    image = await pushBigImage(registry, 'ferry-test/whole', '1.0', [LAYER]);
    layer = image.layers[0]!;
    proxy = await startHoldingProxy(new URL(registry.url));
  });

  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    await work?.cleanup();
  });

  /** Runs a real export until the layer's partial holds all its bytes, then SIGKILLs it. Returns the partial's path. */
  async function killAtWholePartial(store: string, out: string): Promise<string> {
    proxy.holding.add(layer.digest);
    const child = spawn(process.execPath, [FERRY_BIN, ...exportArgs(store, out)], { env: { ...process.env, FERRY_STORE: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    killOnExit(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => ((exited = true), resolve(signal))));
    const ingest = join(store, 'ingest');
    let partial: string | undefined;
    for (const deadline = Date.now() + 60_000; !partial && !exited && Date.now() < deadline; ) {
      for (const name of (await readdir(ingest).catch(() => [])).filter((n) => n.endsWith('.partial'))) {
        if ((await stat(join(ingest, name)).catch(() => undefined))?.size === LAYER) partial = join(ingest, name);
      }
      if (!partial) await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    expect(await exit, `the export ended before the layer was held: ${stderr}`).toBe('SIGKILL');
    proxy.holding.clear();
    expect(partial, 'no partial reached the layer size').toBeDefined();
    return partial!;
  }

  const layerGets = (from: number) => proxy.requests.slice(from).filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer.digest}`));

  it('the rerun commits the read-only whole partial without fetching the layer again, and the bundle verifies', async () => {
    const store = work.path('store-a');
    const out = work.path('a.tar');
    const partial = await killAtWholePartial(store, out);
    // The state of the report: a kill one step later, after the commit's chmod 0444, leaves the same bytes read-only.
    await chmod(partial, 0o444);

    const before = proxy.requests.length;
    const rerun = await ferry(exportArgs(store, out), { timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(layerGets(before)).toEqual([]);
    expect(proxy.requests.slice(before).filter((r) => r.status === 416)).toEqual([]);
    expect((await readdir(join(store, 'ingest'))).filter((n) => n.endsWith('.partial') || n.endsWith('.json'))).toEqual([]);
    const verified = await ferry(['verify', out]);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('a whole partial with a wrong byte is dropped and the layer fetched again from 0', async () => {
    const store = work.path('store-b');
    const out = work.path('b.tar');
    const partial = await killAtWholePartial(store, out);
    const fh = await open(partial, 'r+');
    await fh.write(Buffer.from([0xff ^ (await fh.read(Buffer.alloc(1), 0, 1, LAYER >> 1)).buffer[0]!]), 0, 1, LAYER >> 1);
    await fh.close();

    const before = proxy.requests.length;
    const rerun = await ferry(exportArgs(store, out), { timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(layerGets(before).map((r) => [r.range, r.status])).toEqual([[undefined, 200]]);
    const verified = await ferry(['verify', out]);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('a 416 to a resumed GET restarts the blob from byte 0 instead of failing', async () => {
    // A client that believes it holds more than the registry has (its partial disagrees with the
    // registry's blob): distribution answers 416 to the Range; the client asks again from 0 and
    // hands over what follows the offset, so the store's digest check decides (and drops a bad partial).
    const client = createRegistryClient({ registry: proxy.host, plainHttp: true });
    const claimed: Descriptor = { mediaType: MediaType.ociLayer, digest: parseDigest(layer.digest), size: LAYER + 100 };
    const before = proxy.requests.length;
    const tail: Buffer[] = [];
    for await (const chunk of await client.repository(image.repository).fetch(claimed, { offset: LAYER - 10 })) tail.push(chunk as Buffer);
    expect(Buffer.concat(tail).length).toBe(10);
    const fromTen = await client.repository(image.repository).fetch(claimed, { offset: LAYER + 10 });
    for await (const _ of fromTen) expect.fail('nothing lies past the end of the registry\'s blob');
    expect(layerGets(before).map((r) => [r.range, r.status])).toEqual([
      [`bytes=${LAYER - 10}-`, 206],
      [`bytes=${LAYER + 10}-`, 416],
      [undefined, 200],
    ]);
    // Asking from the blob's size asks nothing at all.
    const atEnd = proxy.requests.length;
    for await (const _ of await client.repository(image.repository).fetch({ ...claimed, size: LAYER }, { offset: LAYER })) expect.fail('no bytes');
    expect(proxy.requests.length).toBe(atEnd);
  });
});
