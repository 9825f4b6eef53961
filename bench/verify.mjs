// `ferry verify BUNDLE` (every blob hashed and checked, the head's chain of
// trust, tar structure) against `openssl dgst -sha256` over the same file: the
// hash-bound limit. Both read a file the page cache already holds (openssl runs
// once first to warm it), so the figure is CPU, not disk.
import { ensureBundle, ferry, log, sizeOf } from './lib/context.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtBytes, fmtRate, median, paired } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'verify vs openssl dgst -sha256';

async function measureOne(ctx, bundle) {
  const bytes = await sizeOf(bundle);
  await runTimed('openssl', ['dgst', '-sha256', bundle]);
  const f = [];
  const o = [];
  for (let run = 1; run <= ctx.runs; run++) {
    const fr = await ferry(ctx, ['verify', bundle]);
    const or = await runTimed('openssl', ['dgst', '-sha256', bundle]);
    f.push(fr.wallMs);
    o.push(or.wallMs);
    log(`  run ${run}: ferry ${fmtRate(bytes, fr.wallMs)}, openssl ${fmtRate(bytes, or.wallMs)} (${fmtBytes(bytes)})`);
  }
  const fm = median(f);
  const om = median(o);
  return row({
    measure: `verify a ${fmtBytes(bytes)} bundle (throughput)`,
    ferry: fmtRate(bytes, fm),
    peer: `${fmtRate(bytes, om)} openssl`,
    ...paired(o, f),
    ratioOf: 'ferry/openssl throughput',
    goal: '≥ 0.8',
    pass: paired(o, f).ratio >= 0.8,
  });
}

/** The set's bundle, and the big-layer bundle when the RSS measure left one (start-up costs weigh less there). */
export async function measure(ctx) {
  const { bundle } = await ensureBundle(ctx);
  const rows = [await measureOne(ctx, bundle)];
  if (ctx.artefacts.bigBundle) rows.push(await measureOne(ctx, ctx.artefacts.bigBundle));
  return rows;
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
