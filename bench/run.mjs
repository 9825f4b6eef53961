// `npm run bench`: every measure in one run, ferry beside its peer on the same
// images, medians of --runs N (default 3), one table at the end (also written
// to .bench/results.md and .bench/results.json). --quick: small set (3 images,
// ~34 MiB; 256 MiB big layer) for trying the scripts; --only a,b: some measures.
// Every registry and server started is killed at the end, even on error.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import * as exportM from './export.mjs';
import * as mixM from './mix.mjs';
import * as importM from './import.mjs';
import * as rssM from './rss.mjs';
import * as verifyM from './verify.mjs';
import * as writeM from './write.mjs';
import * as serveM from './serve.mjs';
import * as deltaM from './delta.mjs';
import * as startupM from './startup.mjs';
import { createContext, log, parseArgs, REPO_ROOT } from './lib/context.mjs';
import { hasGnuTime } from './lib/run-timed.mjs';
import { cpuTicks, stolenSince } from './lib/cpu-time.mjs';
import { formatTable } from './lib/table.mjs';

const MEASURES = { export: exportM, mix: mixM, import: importM, rss: rssM, verify: verifyM, write: writeM, serve: serveM, delta: deltaM, startup: startupM };

const USAGE = `usage: node bench/run.mjs [--quick] [--runs N] [--only ${Object.keys(MEASURES).join(',')}] [--concurrency N] [--profile]
  --quick        3 images (~34 MiB) and a 256 MiB big layer instead of 12 images (~300 MiB) and 2 GiB
  --runs N       runs per timed figure; the table shows medians (default 3)
  --only a,b     only these measures
  --concurrency  passed to ferry export/import (default: ferry's own)
  --profile      node --cpu-prof for every ferry run, into .bench/profiles/ (read with bench/profile-top.mjs)`;

function version(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return 'not found';
  }
}

function machine() {
  const diskLine = execFileSync('df', ['-hT', REPO_ROOT], { encoding: 'utf8' }).trim().split('\n').pop();
  return {
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free)`,
    disk: diskLine ?? '?',
    node: process.version,
    // Node parses these certificates before any script runs: ~50 ms of every start here, ferry's and `node -e 0`'s alike.
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? 'unset',
    skopeo: version('skopeo', ['--version']),
    registry: version('docker-registry', ['--version']),
    openssl: version('openssl', ['version']),
  };
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const names = args.only ?? Object.keys(MEASURES);
  for (const n of names) if (!MEASURES[n]) throw new Error(`unknown measure ${n}; known: ${Object.keys(MEASURES).join(', ')}`);
  if (!hasGnuTime()) log('warning: /usr/bin/time missing (apt-get install -y time): peak RSS figures will be empty');
  const started = Date.now();
  const loadBefore = load();
  const runTicks = cpuTicks();
  const ctx = await createContext(args);
  try {
    log(`ferry bench (${ctx.mode} set: ${ctx.refs.length} images, ${(ctx.set.unique.bytes / 2 ** 20).toFixed(0)} MiB unique; ${ctx.runs} run(s) per figure; load ${loadBefore})`);
    for (const name of names) {
      const m = MEASURES[name];
      log(`== ${m.title}`);
      const before = loadavg()[0].toFixed(1);
      const ticks = cpuTicks();
      const rows = await m.measure(ctx);
      const after = loadavg()[0].toFixed(1);
      const stolen = stolenSince(ticks);
      ctx.rows.push(...rows.map((r) => ({ ...r, load: `${before}→${after}${stolen ? `, steal ${stolen}` : ''}` })));
    }
  } finally {
    await ctx.close();
  }
  const info = { ...machine(), mode: ctx.mode, runs: ctx.runs, loadBefore, loadAfter: load(), steal: stolenSince(runTicks) || 'unknown', minutes: ((Date.now() - started) / 60000).toFixed(1) };
  const table = formatTable(ctx.rows);
  const header = Object.entries(info).map(([k, v]) => `- ${k}: ${v}`).join('\n');
  const report = `${table}\n\n${header}\n`;
  process.stdout.write(report);
  await writeFile(join(REPO_ROOT, '.bench', 'results.md'), report);
  await writeFile(join(REPO_ROOT, '.bench', 'results.json'), JSON.stringify({ info, rows: ctx.rows }, null, 1));
}

await main();
