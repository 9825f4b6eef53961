// `ferry serve` on a store loaded from the bundle (`ferry import --to-store`,
// the far side's path to serving), against docker-registry
// serving the same images from its own storage (the bench's source registry),
// each pulled by the same client: 8 concurrent pullers (bench/lib/puller.mjs,
// one process), each GETting every manifest and blob once. Throughput = bytes
// delivered / wall time of the client. One untimed pull from each warms both up.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBundle, ferry, log, REPO_ROOT, workPath } from './lib/context.mjs';
import { stop, track } from './lib/children.mjs';
import { freePort, waitReady } from './lib/registry.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtRate, median, paired } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'serve: 8 pullers, ferry serve vs docker-registry';
const PULLERS = 8;

/** Every manifest (by digest) and blob of every image, as paths; `prefix`: the store names repositories after their upstream host. */
function pullList(ctx, prefix) {
  const list = [];
  const seen = new Set();
  for (const image of ctx.set.images) {
    const repo = `${prefix}${image.ref.split(':')[0]}`;
    for (const b of image.blobs) {
      const key = `${repo}@${b.digest}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const manifest = b.kind === 'manifest';
      list.push({ path: `/v2/${repo}/${manifest ? 'manifests' : 'blobs'}/${b.digest}`, accept: manifest ? b.mediaType : undefined });
    }
  }
  return list;
}

async function pull(ctx, base, listFile) {
  const r = await runTimed(process.execPath, [join(REPO_ROOT, 'bench', 'lib', 'puller.mjs'), base, String(PULLERS), listFile]);
  return JSON.parse(r.stdout);
}

export async function startFerryServe(ctx, store) {
  const port = await freePort();
  const child = track(process.execPath, [join(REPO_ROOT, 'bin', 'ferry.cjs'), 'serve', '--store', store, '--addr', `127.0.0.1:${port}`, '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  try {
    await waitReady(`http://127.0.0.1:${port}/v2/`, child);
  } catch (e) {
    await stop(child);
    throw new Error(`ferry serve did not start: ${e.message}\n${stderr}`);
  }
  return { url: `http://127.0.0.1:${port}`, stop: () => stop(child) };
}

export async function measure(ctx) {
  const { bundle } = await ensureBundle(ctx);
  // Not the export's store: export links a blob shared by several images only into
  // the first repository that pulled it, so ferry serve 404s it elsewhere.
  const store = workPath(ctx, 'serve-store');
  await ferry(ctx, ['import', bundle, '--to-store', '--store', store]);
  const storePrefix = `${ctx.source.host.replace(':', '_')}/`;
  const ferryList = workPath(ctx, 'pull-ferry.json');
  const registryList = workPath(ctx, 'pull-registry.json');
  await writeFile(ferryList, JSON.stringify(pullList(ctx, storePrefix)));
  await writeFile(registryList, JSON.stringify(pullList(ctx, '')));
  const server = await startFerryServe(ctx, store);
  const f = [];
  const d = [];
  try {
    // One untimed pull from each first: both servers start from a warm page cache and a warm process.
    log('  (warm-up pulls, untimed)');
    await pull(ctx, server.url, ferryList);
    await pull(ctx, ctx.source.url, registryList);
    for (let run = 1; run <= ctx.runs; run++) {
      const fr = await pull(ctx, server.url, ferryList);
      const dr = await pull(ctx, ctx.source.url, registryList);
      if (fr.bytes !== dr.bytes) throw new Error(`ferry serve delivered ${fr.bytes} bytes, docker-registry ${dr.bytes}`);
      f.push(fr.bytes / fr.ms);
      d.push(dr.bytes / dr.ms);
      log(`  run ${run}: ferry serve ${fmtRate(fr.bytes, fr.ms)}, docker-registry ${fmtRate(dr.bytes, dr.ms)} (${fr.requests} requests, ${(fr.bytes / 1048576).toFixed(0)} MiB in all)`);
    }
  } finally {
    await server.stop();
  }
  const fm = median(f);
  const dm = median(d);
  return [
    row({
      measure: `serve, ${PULLERS} concurrent pullers (throughput)`,
      ferry: fmtRate(fm * 1000, 1000),
      peer: `${fmtRate(dm * 1000, 1000)} docker-registry`,
      ...paired(f, d),
      ratioOf: 'ferry/registry throughput',
      goal: '≥ 1.0',
      pass: paired(f, d).ratio >= 1.0,
    }),
  ];
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
