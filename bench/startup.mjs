// Start-up: what ferry costs before a command does its work. `ferry --version`,
// `ferry inspect` of the set's bundle (reads the head only) and `ferry verify`
// of a one-image bundle, each against `node -e 0` run back to back with it.
// Each figure is the best of REPEATS tries inside a run (start-up noise is
// one-sided: a busy core only adds), node's and ferry's tries taken in turn so
// that both see the same load, and the row is the paired difference ferry −
// node in milliseconds, the median over --runs (min–max beside it).
// The verify reads a 30 MiB layer, so a context row takes out the hashing as
// `openssl dgst -sha256` of the same file times it.
import { ensureBundle, ferry, imageSpec, log, sizeOf, workPath } from './lib/context.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { median } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'start-up: ferry against node -e 0';

const REPEATS = 7;

async function best(run) {
  let min = Infinity;
  for (let i = 0; i < REPEATS; i++) min = Math.min(min, (await run()).wallMs);
  return min;
}

/**
 * The best of REPEATS tries of each, `a` and `b` in turn (a b, b a, a b, …). Five of node and then five
 * of ferry let a load that came or went between the two blocks into the difference: the inspect row
 * spread 20-43 ms over three runs where 30 alternating runs gave medians of 28-29.
 */
async function bestInTurn(a, b) {
  let minA = Infinity;
  let minB = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    for (const which of i % 2 ? ['b', 'a'] : ['a', 'b']) {
      if (which === 'a') minA = Math.min(minA, (await a()).wallMs);
      else minB = Math.min(minB, (await b()).wallMs);
    }
  }
  return [minA, minB];
}

async function smallBundle(ctx) {
  if (ctx.artefacts.smallBundle) return ctx.artefacts.smallBundle;
  const bundle = workPath(ctx, 'one-image.tar');
  log('  (preparing a one-image bundle, untimed)');
  await ferry(ctx, ['export', ...(await imageSpec(ctx, ctx.refs.slice(0, 1))), '-o', bundle, '--plain-http', '--store', workPath(ctx, 'store')]);
  ctx.artefacts.smallBundle = bundle;
  return bundle;
}

export async function measure(ctx) {
  const { bundle } = await ensureBundle(ctx);
  const small = await smallBundle(ctx);
  const commands = [
    ['ferry --version', ['--version']],
    ['ferry inspect (the set\'s bundle)', ['inspect', bundle]],
    ['ferry verify (one-image bundle)', ['verify', small]],
  ];
  const rows = [];
  for (const [name, args] of commands) {
    const above = [];
    const nodes = [];
    for (let run = 1; run <= ctx.runs; run++) {
      const [node, f] = await bestInTurn(() => runTimed(process.execPath, ['-e', '0']), () => ferry(ctx, args));
      nodes.push(node);
      above.push(f - node);
      log(`  run ${run}: ${name} ${f.toFixed(0)} ms, node -e 0 ${node.toFixed(0)} ms`);
    }
    const m = median(above);
    rows.push(
      row({
        measure: `start-up: ${name}`,
        ferry: `+${m.toFixed(0)} ms`,
        peer: `${median(nodes).toFixed(0)} ms node -e 0`,
        ratio: m,
        spread: [Math.min(...above), Math.max(...above)],
        ratioOf: 'ms above node',
        goal: '≤ 40 ms',
        pass: m <= 40,
      }),
    );
    if (args[0] === 'verify') {
      // A verify hashes every byte: the part of its figure that is the hashing, timed as openssl does it.
      const hashing = [];
      for (let run = 1; run <= ctx.runs; run++) hashing.push(await best(() => runTimed('openssl', ['dgst', '-sha256', small])));
      const h = median(hashing);
      const beyond = above.map((a) => a - h);
      rows.push(
        row({
          measure: `start-up: ${name}, less the hashing (openssl dgst -sha256 of the same ${(await sizeOf(small) / 2 ** 20).toFixed(1)} MiB: ${h.toFixed(0)} ms)`,
          ferry: `+${median(beyond).toFixed(0)} ms`,
          peer: `${median(nodes).toFixed(0)} ms node -e 0`,
          ratio: median(beyond),
          spread: [Math.min(...beyond), Math.max(...beyond)],
          ratioOf: 'ms above node + openssl',
          goal: '(context)',
        }),
      );
    }
  }
  return rows;
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
