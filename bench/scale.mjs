// `npm run bench:scale`: how ferry's cost grows with the number of images.
// For each N (default 10,100,1000) a generated set of small images (see
// lib/scale-set.mjs) is served by a real docker-registry; ferry export/import/
// inspect/verify run beside `skopeo sync` and `openssl dgst`, and on a signed
// copy export and import --dry-run with and without --require-signed-by
// (lib/scale-trust.mjs); then the store
// (gc/usage/ls on 100,000 blobs / 10,000 tags) and serve (tags/list, _catalog)
// measures. The table is printed, kept in .bench/scale.md and, unless --quick
// or --no-docs, written into docs/performance.md between the scale markers.
// Every registry, server and temp dir is removed at the end, even on Ctrl-C.
import { rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isolateDefaultStore, log, REPO_ROOT } from './lib/context.mjs';
import { measureSize } from './lib/scale-measures.mjs';
import { scaleRows, sizeRows } from './lib/scale-table.mjs';
import { cpuTicks, stolenSince } from './lib/cpu-time.mjs';
import { formatTable } from './lib/table.mjs';
import { measureStore } from './scale-store.mjs';
import { measureServe } from './scale-serve.mjs';

const USAGE = `usage: node bench/scale.mjs [--n 10,100,1000] [--quick] [--runs N] [--only sizes,store,serve] [--no-docs] [--profile]
  --n a,b     the set sizes (default 10,100,1000)
  --quick     N=10,100 and a store/serve tenth the size (100 repos, 1,000 tags, 10,000 blobs); docs untouched
  --runs N    runs per size (default 1); the table shows medians
  --only      some of: sizes, store, serve
  --no-docs   do not rewrite the Scale section of docs/performance.md
  --profile   node --cpu-prof for every ferry run, into .bench/profiles/`;

function parse(argv) {
  const a = { n: [10, 100, 1000], quick: false, runs: 1, only: ['sizes', 'store', 'serve'], docs: true, profile: false };
  let nGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const value = () => (x.includes('=') ? x.slice(x.indexOf('=') + 1) : argv[++i]);
    const is = (name) => x === name || x.startsWith(`${name}=`);
    if (x === '--quick') a.quick = true;
    else if (is('--n')) { a.n = value().split(',').map(Number); nGiven = true; }
    else if (is('--runs')) a.runs = Number(value());
    else if (is('--only')) a.only = value().split(',');
    else if (x === '--no-docs') a.docs = false;
    else if (x === '--profile') a.profile = true;
    else if (x === '--help' || x === '-h') a.help = true;
    else throw new Error(`unknown argument ${x}\n${USAGE}`);
  }
  if (a.quick && !nGiven) a.n = [10, 100];
  if (a.quick) a.docs = false;
  if (a.n.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--n wants positive integers: --n 10,100');
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs wants a positive integer');
  return a;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');
/** The load now and the CPU time stolen from this VM since `ticks` (lib/cpu-time.mjs). */
const loadAndSteal = (ticks) => {
  const stolen = stolenSince(ticks);
  return stolen ? `${load()} (steal ${stolen})` : load();
};

async function writeDocs(section) {
  const path = join(REPO_ROOT, 'docs', 'performance.md');
  const text = await readFile(path, 'utf8');
  const begin = '<!-- scale:begin -->';
  const end = '<!-- scale:end -->';
  const block = `${begin}\n${section}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  await writeFile(path, i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n## Scale\n\n${block}\n`);
}

async function main() {
  const args = parse(process.argv.slice(2));
  if (args.help) return void process.stdout.write(`${USAGE}\n`);
  const root = join(REPO_ROOT, '.bench');
  const work = join(root, 'scale-work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  isolateDefaultStore(work);
  // The shared ferry() helper reads ctx.args.profile/concurrency.
  const ctx = { args: { profile: args.profile }, runs: args.runs, root, work, quick: args.quick };
  const cleanup = () => rm(work, { recursive: true, force: true });
  // Ctrl-C: lib/children.mjs kills our children and exits 130; this removes the work dir then.
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const started = Date.now();
  const loads = [`start ${load()}`];
  const rows = [];
  const sizes = [];
  try {
    if (args.only.includes('sizes')) {
      for (const n of args.n) {
        log(`== N=${n} (load ${load()})`);
        const ticks = cpuTicks();
        sizes.push(await measureSize(ctx, n));
        loads.push(`after N=${n} ${loadAndSteal(ticks)}`);
      }
      rows.push(...sizeRows(sizes));
    }
    if (args.only.includes('store')) {
      log(`== store (load ${load()})`);
      const ticks = cpuTicks();
      rows.push(...(await measureStore(ctx)));
      loads.push(`after store ${loadAndSteal(ticks)}`);
    }
    if (args.only.includes('serve')) {
      log(`== serve (load ${load()})`);
      const ticks = cpuTicks();
      rows.push(...(await measureServe(ctx)));
      loads.push(`after serve ${loadAndSteal(ticks)}`);
    }
  } finally {
    await cleanup();
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const table = formatTable(rows);
  const curve = scaleRows(sizes);
  const notes = `- load (1, 5, 15 min; steal: the share of CPU time the hypervisor gave other guests during each part): ${loads.join('; ')}\n- runs per size: ${args.runs}; wall time of the whole bench: ${minutes} min; node ${process.version}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ?? 'unset'} (parsed at every node start: ~50 ms here)`;
  const section = `${curve}\n\n${table}\n\n${notes}`;
  process.stdout.write(`${section}\n`);
  await writeFile(join(root, 'scale.md'), `${section}\n`);
  if (args.docs) await writeDocs(section);
}

await main();
