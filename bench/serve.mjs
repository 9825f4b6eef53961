// `ferry serve` on a store loaded from the bundle (`ferry import --to-store`,
// the far side's path to serving), against docker-registry
// serving the same images from its own storage (the bench's source registry),
// each pulled by the same client: 8 concurrent pullers (8 curl processes, or
// one node process: puller() below), each GETting every manifest and blob once. Throughput = bytes
// delivered / wall time of the client. One untimed pull from each warms both up.
//
// Wall time on a shared 2-core machine swings with whatever else runs (one run's
// ratio went from 0.66 to 1.46), so each run pulls ABBA (ferry, registry,
// registry, ferry; the next run BAAB): a load that rises or falls through the run
// hits both alike, and each server's figure is the better of its two pulls (the
// one least disturbed). The rows also give each server's own CPU time per GiB
// delivered (/proc/PID/stat, user + system): what the serving costs, which load
// barely moves.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBundle, ferry, log, REPO_ROOT, workPath } from './lib/context.mjs';
import { stop, track } from './lib/children.mjs';
import { processCpuMs } from './lib/cpu-time.mjs';
import { freePort, waitReady } from './lib/registry.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { GiB, fmtRate, median, paired } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'serve: 8 pullers, ferry serve vs docker-registry';
const PULLERS = 8;
/**
 * The client: 8 curl processes (lib/puller-curl.mjs) where curl is installed, else one node process
 * (lib/puller.mjs); FERRY_BENCH_PULLER=node|curl chooses. node:http's one thread was busy 91-99 % of a
 * core receiving 0.9-1.3 GiB/s, so both servers ran at the client's pace (ratios 0.98-1.17 this stop); 8 curls
 * take ~55 % of a core for the same pulls, and the servers set the pace.
 */
let chosen;
/** Decided when serve is measured, not when bench/run.mjs loads this module for another measure. */
function puller() {
  if (chosen) return chosen;
  const wanted = process.env.FERRY_BENCH_PULLER ?? (spawnSync('curl', ['--version']).status === 0 ? 'curl' : 'node');
  chosen = wanted === 'curl' ? { name: 'curl', script: 'puller-curl.mjs' } : { name: 'node:http', script: 'puller.mjs' };
  return chosen;
}
// FERRY_BIN: another build's bin/ferry.js, for paired old/new runs.
const FERRY = process.env.FERRY_BIN ?? join(REPO_ROOT, 'bin', 'ferry.cjs');
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

/** One pull by the 8 pullers; `pid` is the server's, whose CPU time it cost is measured around it. */
async function pull(ctx, server) {
  const before = processCpuMs(server.pid);
  const r = await runTimed(process.execPath, [join(REPO_ROOT, 'bench', 'lib', puller().script), server.url, String(PULLERS), server.list]);
  const result = JSON.parse(r.stdout);
  // The client's own CPU, as a share of its wall time: near 100 % (one thread) it, not the server, sets the pace.
  return { ...result, rate: result.bytes / result.ms, cpuPerGiB: (processCpuMs(server.pid) - before) / (result.bytes / GiB), clientBusy: r.cpuMs / r.wallMs };
}

export async function startFerryServe(ctx, store) {
  const port = await freePort();
  const child = track(process.execPath, [FERRY, 'serve', '--store', store, '--addr', `127.0.0.1:${port}`, '--no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  try {
    await waitReady(`http://127.0.0.1:${port}/v2/`, child);
  } catch (e) {
    await stop(child);
    throw new Error(`ferry serve did not start: ${e.message}\n${stderr}`);
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stop(child) };
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
  const sides = {
    ferry: { url: server.url, pid: server.pid, list: ferryList, rate: [], cpu: [] },
    registry: { url: ctx.source.url, pid: ctx.source.pid, list: registryList, rate: [], cpu: [] },
  };
  try {
    // One untimed pull from each first: both servers start from a warm page cache and a warm process.
    log('  (warm-up pulls, untimed)');
    await pull(ctx, sides.ferry);
    await pull(ctx, sides.registry);
    for (let run = 1; run <= ctx.runs; run++) {
      const order = run % 2 ? ['ferry', 'registry', 'registry', 'ferry'] : ['registry', 'ferry', 'ferry', 'registry'];
      const got = { ferry: [], registry: [] };
      for (const name of order) got[name].push(await pull(ctx, sides[name]));
      const [f1, f2] = got.ferry;
      if (got.registry.some((r) => r.bytes !== f1.bytes) || f2.bytes !== f1.bytes) throw new Error(`ferry serve and docker-registry delivered different bytes: ${JSON.stringify(got)}`);
      for (const name of ['ferry', 'registry']) {
        sides[name].rate.push(Math.max(...got[name].map((r) => r.rate)));
        sides[name].cpu.push(median(got[name].map((r) => r.cpuPerGiB)));
      }
      const say = (name) =>
        `${got[name].map((r) => fmtRate(r.bytes, r.ms)).join(' / ')} (CPU ${got[name].map((r) => r.cpuPerGiB.toFixed(0)).join(' / ')} ms/GiB; the client busy ${got[name].map((r) => `${Math.round(100 * r.clientBusy)} %`).join(' / ')} of a core)`;
      log(`  run ${run} (${order.map((n) => n[0]).join('')}): ferry serve ${say('ferry')}, docker-registry ${say('registry')}; ${f1.requests} requests, ${(f1.bytes / GiB).toFixed(1)} GiB a pull`);
    }
  } finally {
    await server.stop();
  }
  const { ferry: f, registry: d } = sides;
  const throughput = paired(f.rate, d.rate);
  // Inverted so that, as for throughput, above 1 means ferry is ahead.
  const cpu = paired(d.cpu, f.cpu);
  return [
    row({
      measure: `serve, ${PULLERS} concurrent pullers (${puller().name}; throughput, best of 2 pulls a run)`,
      ferry: fmtRate(median(f.rate) * 1000, 1000),
      peer: `${fmtRate(median(d.rate) * 1000, 1000)} docker-registry`,
      ...throughput,
      ratioOf: 'ferry/registry throughput',
      goal: '≥ 1.0',
      pass: throughput.ratio >= 1.0,
    }),
    row({
      measure: `serve, ${PULLERS} concurrent pullers (${puller().name}; server CPU per GiB delivered)`,
      ferry: `${median(f.cpu).toFixed(0)} ms/GiB`,
      peer: `${median(d.cpu).toFixed(0)} ms/GiB docker-registry`,
      ...cpu,
      ratioOf: 'registry/ferry CPU per byte',
      // Not the issue's goal (throughput is): the stable figure beside it.
      goal: '(context)',
    }),
  ];
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
