// Bundle write from the store: writeBundle (bench/lib/write-bundle.mjs, its
// own process: start-up included, registry round trips not) over the store the
// export filled, writing the same bytes as the first bundle, against `cp BUNDLE COPY && sync
// COPY` of the same number of bytes: the disk-bound limit (both end with an
// fsync of the written file). cp copies inside the kernel (copy_file_range on
// ext4), which ferry cannot, since it hashes every byte it writes; so `dd bs=1M
// conv=fsync` (read + write through user space, then fsync) is shown as well.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBundle, log, REPO_ROOT, sizeOf, workPath } from './lib/context.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtRate, median, paired } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'bundle write from the store vs cp + sync';

export async function measure(ctx) {
  const { bundle, store } = await ensureBundle(ctx);
  const bytes = await sizeOf(bundle);
  const f = [];
  const c = [];
  const d = [];
  for (let run = 1; run <= ctx.runs; run++) {
    const out = workPath(ctx, 'rewrite.tar');
    const fr = await runTimed(process.execPath, [join(REPO_ROOT, 'bench', 'lib', 'write-bundle.mjs'), store, out, ...ctx.refs]);
    const written = await sizeOf(out);
    if (written !== bytes) throw new Error(`the rewritten bundle has ${written} bytes, the first ${bytes}`);
    await rm(out);
    const copy = workPath(ctx, 'copy.tar');
    const cr = await runTimed('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', bundle, copy]);
    await rm(copy);
    const dr = await runTimed('dd', [`if=${bundle}`, `of=${copy}`, 'bs=1M', 'conv=fsync', 'status=none']);
    await rm(copy);
    f.push(fr.wallMs);
    c.push(cr.wallMs);
    d.push(dr.wallMs);
    log(`  run ${run}: ferry ${fmtRate(bytes, fr.wallMs)}, cp+sync ${fmtRate(bytes, cr.wallMs)}, dd ${fmtRate(bytes, dr.wallMs)}`);
  }
  const fm = median(f);
  const cm = median(c);
  const dm = median(d);
  return [
    row({
      measure: 'bundle write from a warm store (throughput)',
      ferry: fmtRate(bytes, fm),
      peer: `${fmtRate(bytes, cm)} cp+sync`,
      ...paired(c, f),
      ratioOf: 'ferry/cp throughput',
      goal: '≥ 0.8',
      pass: paired(c, f).ratio >= 0.8,
    }),
    row({
      measure: 'bundle write from a warm store vs a user-space copy (throughput)',
      ferry: fmtRate(bytes, fm),
      peer: `${fmtRate(bytes, dm)} dd bs=1M conv=fsync`,
      ...paired(d, f),
      ratioOf: 'ferry/dd throughput',
      goal: '(context)',
    }),
  ];
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
