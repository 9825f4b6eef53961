// One size of the scale bench, step by step, for profiling a single measure
// without running bench/scale.mjs in full: the generated set of N images
// (lib/scale-set.mjs) served by docker-registry, then the steps asked for:
//   export  ferry export of the N images into DIR/bundle.tar (fresh store)
//   import  ferry import of DIR/bundle.tar into an empty registry
//   verify  ferry verify of DIR/bundle.tar beside openssl dgst -sha256 (warm cache)
// Each ferry run prints wall time, CPU time and peak RSS (GNU time); --node passes flags to
// node (e.g. "--cpu-prof --cpu-prof-dir .bench/profiles" or "--heap-prof").
// Usage: node bench/scale-one.mjs [--n 1000] [--dir .bench/scale-one] [--node FLAGS] [--runs 3] export,import,verify
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isolateDefaultStore, log, REPO_ROOT } from './lib/context.mjs';
import { startRegistry } from './lib/registry.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { ensureScaleSet } from './lib/scale-set.mjs';

const args = { n: 1000, dir: join(REPO_ROOT, '.bench', 'scale-one'), node: [], runs: 1, steps: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--n') args.n = Number(argv[++i]);
  else if (a === '--dir') args.dir = argv[++i];
  else if (a === '--node') args.node = argv[++i].split(' ').filter(Boolean);
  else if (a === '--runs') args.runs = Number(argv[++i]);
  else args.steps.push(...a.split(','));
}
// FERRY_BIN: another build's bin/ferry.cjs (or bin/ferry.js), for paired old/new runs.
const FERRY = process.env.FERRY_BIN ?? join(REPO_ROOT, 'bin', 'ferry.cjs');
const bundle = join(args.dir, 'bundle.tar');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const mib = (kb) => `${(kb / 1024).toFixed(0)} MiB`;

function ferry(argvFerry) {
  return runTimed(process.execPath, [...args.node, FERRY, ...argvFerry, '--no-progress']);
}

async function step(name, fn) {
  for (let run = 1; run <= args.runs; run++) {
    const before = load();
    const line = await fn();
    log(`${name} (N=${args.n}): ${line}  [load ${before} → ${load()}]`);
  }
}

await mkdir(args.dir, { recursive: true });
isolateDefaultStore(args.dir);
const set = await ensureScaleSet(join(REPO_ROOT, '.bench'), args.n, log);
log(`set: ${set.images.length} images, ${set.unique.blobs} unique blobs`);

if (args.steps.includes('export')) {
  const source = await startRegistry({ storageDir: set.storageDir, workDir: args.dir });
  try {
    const spec = join(args.dir, 'images.yaml');
    const images = set.images.map((i) => ({ ref: `${source.host}/${i.ref}` }));
    await writeFile(spec, JSON.stringify({ apiVersion: 'ferry/v1', kind: 'Bundle', metadata: { name: 'scale' }, images }));
    await step('export', async () => {
      const store = join(args.dir, 'store');
      await rm(store, { recursive: true, force: true });
      await rm(bundle, { force: true });
      const r = await ferry(['export', '-f', spec, '-o', bundle, '--plain-http', '--store', store]);
      return `${r.wallMs.toFixed(0)} ms (CPU ${r.cpuMs?.toFixed(0)} ms), peak RSS ${mib(r.maxRssKb)}`;
    });
  } finally {
    await source.stop();
  }
}
if (args.steps.includes('import')) {
  await step('import', async () => {
    const target = await startRegistry({ workDir: args.dir });
    try {
      const r = await ferry(['import', bundle, '--to', target.host, '--plain-http']);
      return `${r.wallMs.toFixed(0)} ms (CPU ${r.cpuMs?.toFixed(0)} ms), peak RSS ${mib(r.maxRssKb)}`;
    } finally {
      await target.stop();
    }
  });
}
if (args.steps.includes('verify')) {
  if (!existsSync(bundle)) throw new Error(`no ${bundle}: run the export step first`);
  const { size } = await stat(bundle);
  await runTimed('openssl', ['dgst', '-sha256', bundle]); // page cache warm for both
  await step('verify', async () => {
    const f = await ferry(['verify', bundle]);
    const o = await runTimed('openssl', ['dgst', '-sha256', bundle]);
    const rate = (ms) => size / 1048576 / (ms / 1000);
    return `ferry ${f.wallMs.toFixed(0)} ms (${rate(f.wallMs).toFixed(0)} MiB/s, RSS ${mib(f.maxRssKb)}), openssl ${o.wallMs.toFixed(0)} ms (${rate(o.wallMs).toFixed(0)} MiB/s): ratio ${(o.wallMs / f.wallMs).toFixed(3)}`;
  });
}
