import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/digest.js';
import { openStore, type Store } from '../../src/store/index.js';
import { rigContext, seededRig } from '../rig/context.js';
import { registryBlobs, type RigImage } from '../rig/image-set.js';
import { run } from '../rig/peers.js';
import { serve, type Served } from './harness.js';

// Load while the store changes under the server: 16 skopeo pushers of images
// that share layers, with `gc` (no grace window) sweeping from a second store
// handle the whole time; then 8 concurrent pullers of a large blob.

const PUSHERS = 16;
const PULLERS = 8;

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every manifest and registry blob of `image` is served from `repository` with the right digest. */
async function assertComplete(s: Served, repository: string, image: RigImage): Promise<void> {
  const root = await s.send('GET', `/v2/${repository}/manifests/${image.tag ?? image.digest}`);
  expect(root.headers['docker-content-digest'], `${repository}`).toBe(image.digest);
  for (const m of image.manifests) {
    const got = await s.send('GET', `/v2/${repository}/manifests/${m.digest}`);
    expect(digestOf(got.body), `${repository} manifest ${m.digest}`).toBe(m.digest);
  }
  for (const b of registryBlobs(image)) {
    const got = await s.send('GET', `/v2/${repository}/blobs/${b.digest}`);
    expect(got.status, `${repository} blob ${b.digest}`).toBe(200);
    expect(digestOf(got.body)).toBe(b.digest);
  }
}

describe.skipIf(!rigContext().available)('concurrency', () => {
  let s: Served;
  let gcStore: Store;
  let work: string;
  beforeAll(async () => {
    s = await serve();
    gcStore = await openStore(s.storeDir);
    work = await mkdtemp(join(tmpdir(), 'ferry-serve-load-'));
  });
  afterAll(async () => {
    await gcStore?.close();
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(`${PUSHERS} concurrent skopeo pushers while gc sweeps: every image complete, nothing lost, no partial blob`, async () => {
    const rig = seededRig();
    const { multi, docker, appA, appB } = rig.images.images;
    const cycle = [appA, appB, multi, docker];
    const jobs = Array.from({ length: PUSHERS }, (_, i) => {
      const image = cycle[i % cycle.length] as RigImage;
      // Half collide on shared repositories, half get their own.
      const repository = i % 2 === 0 ? `shared/${image.repository}` : `p${i}/${image.repository}`;
      return { image, repository };
    });
    let pushing = true;
    let gcRuns = 0;
    let garbageSwept = 0;
    const garbage: string[] = [];
    const gcLoop = (async () => {
      while (pushing) {
        // Unreferenced, unpinned bytes: what a GC with no grace window must take.
        const bytes = randomBytes(1024);
        const digest = digestOf(bytes);
        await gcStore.writeBlob({ mediaType: 'application/octet-stream', digest, size: bytes.length }, Readable.from([bytes]));
        garbage.push(digest);
        const report = await gcStore.gc({ graceMs: 0 });
        gcRuns++;
        garbageSwept += report.removed.filter((r) => garbage.includes(r.digest)).length;
        await sleep(20);
      }
    })();
    const results = await Promise.all(
      jobs.map(({ image, repository }) =>
        run('skopeo', [
          '--insecure-policy', 'copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false',
          `docker://${rig.source.host}/${image.reference}`, `docker://${s.server.address}/${repository}:${image.tag ?? 'latest'}`,
        ], { timeoutMs: 240_000 }),
      ),
    );
    pushing = false;
    await gcLoop;
    results.forEach((r, i) => expect(r.code, `pusher ${i}: ${r.stderr}`).toBe(0));
    expect(gcRuns).toBeGreaterThan(2);
    expect(garbageSwept).toBeGreaterThanOrEqual(gcRuns - 1);
    // One more sweep after the dust settles: tags now hold everything.
    await gcStore.gc({ graceMs: 0 });
    for (const { image, repository } of jobs) await assertComplete(s, repository, image);
    // No partial or corrupt blob is visible: every file in blobs/ hashes to its name.
    const blobsDir = join(s.storeDir, 'blobs', 'sha256');
    for (const name of await readdir(blobsDir)) expect(await hashFile(join(blobsDir, name)), name).toBe(name);
    const expected = new Set(jobs.flatMap(({ image }) => [...image.manifests, ...registryBlobs(image)].map((d) => d.digest.slice(7))));
    const present = new Set(await readdir(blobsDir));
    expect([...expected].filter((hex) => !present.has(hex))).toEqual([]);
  });

  it(`${PULLERS} concurrent pullers of a 24 MiB blob each get every byte`, async () => {
    const size = 24 * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    const hash = createHash('sha256');
    for (let i = 0; i < size / chunk.length; i++) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    const body = Readable.from((function* () {
      for (let i = 0; i < size / chunk.length; i++) yield chunk;
    })());
    const agent = new Agent({ connections: PULLERS * 2 });
    try {
      const put = await request(`${s.server.url}/v2/big/blob/blobs/uploads/?digest=${digest}`, { method: 'POST', body, dispatcher: agent });
      await put.body.dump();
      expect(put.statusCode).toBe(201);
      const pulls = await Promise.all(
        Array.from({ length: PULLERS }, async () => {
          const res = await request(`${s.server.url}/v2/big/blob/blobs/${digest}`, { dispatcher: agent });
          const h = createHash('sha256');
          let bytes = 0;
          for await (const c of res.body) {
            h.update(c as Buffer);
            bytes += (c as Buffer).length;
          }
          return { status: res.statusCode, bytes, digest: `sha256:${h.digest('hex')}` };
        }),
      );
      for (const p of pulls) expect(p).toEqual({ status: 200, bytes: size, digest });
    } finally {
      await agent.close();
    }
  });

  it('concurrent full, ranged and abandoned pulls of distinct blobs: every answer is its own bytes', async () => {
    // Random bytes, sizes off the 1 MiB send buffer: a buffer reused before its write
    // finished, or handed to another response, would show as a wrong digest or slice.
    const blobs = [5 * 1024 * 1024 + 123, 3 * 1024 * 1024 + 7, 2 * 1024 * 1024].map((n) => randomBytes(n));
    const digests = blobs.map((b) => digestOf(b));
    const agent = new Agent({ connections: 32 });
    const url = (i: number) => `${s.server.url}/v2/mixed/blob/blobs/${digests[i]}`;
    try {
      for (const [i, bytes] of blobs.entries()) {
        const put = await request(`${s.server.url}/v2/mixed/blob/blobs/uploads/?digest=${digests[i]}`, { method: 'POST', body: bytes, dispatcher: agent });
        await put.body.dump();
        expect(put.statusCode).toBe(201);
      }
      const read = async (i: number, range?: [number, number]): Promise<{ status: number; body: Buffer }> => {
        const res = await request(url(i), { dispatcher: agent, ...(range ? { headers: { range: `bytes=${range[0]}-${range[1]}` } } : {}) });
        const chunks: Buffer[] = [];
        for await (const c of res.body) chunks.push(c as Buffer);
        return { status: res.statusCode, body: Buffer.concat(chunks) };
      };
      const abandon = async (i: number): Promise<void> => {
        const controller = new AbortController();
        const res = await request(url(i), { dispatcher: agent, signal: controller.signal });
        for await (const _ of res.body) {
          controller.abort();
          break;
        }
      };
      const full = Array.from({ length: 9 }, (_, k) => read(k % 3));
      const ranged = [read(0, [1000, 3_000_000]), read(1, [1_048_570, 1_048_590]), read(2, [0, 0])];
      const gone = [abandon(0), abandon(1)].map((p) => p.catch(() => undefined));
      const [answers, slices] = await Promise.all([Promise.all(full), Promise.all(ranged), Promise.all(gone)]);
      for (const [k, a] of answers.entries()) {
        expect(a.status).toBe(200);
        expect(digestOf(a.body), `pull ${k}`).toBe(digests[k % 3]);
      }
      expect(slices.map((a) => a.status)).toEqual([206, 206, 206]);
      expect(slices[0]?.body.equals(blobs[0]!.subarray(1000, 3_000_001))).toBe(true);
      expect(slices[1]?.body.equals(blobs[1]!.subarray(1_048_570, 1_048_591))).toBe(true);
      expect(slices[2]?.body.equals(blobs[2]!.subarray(0, 1))).toBe(true);
      // The server is still whole after the abandoned responses.
      expect(digestOf((await read(0)).body)).toBe(digests[0]);
    } finally {
      await agent.close();
    }
  });

  it(`${PULLERS} concurrent skopeo pulls of the multi-arch index`, async () => {
    const { multi } = seededRig().images.images;
    const results = await Promise.all(
      Array.from({ length: PULLERS }, (_, i) =>
        run('skopeo', ['--insecure-policy', 'copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${s.server.address}/shared/${multi.reference}`, `dir:${join(work, `pull-${i}`)}`]),
      ),
    );
    results.forEach((r, i) => expect(r.code, `puller ${i}: ${r.stderr}`).toBe(0));
    for (let i = 0; i < PULLERS; i++) expect(await hashFile(join(work, `pull-${i}`, 'manifest.json'))).toBe(multi.digest.slice(7));
  });
});
