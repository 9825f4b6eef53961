// Store at scale: `ferry store ls`, `usage` and `gc` on a store of ~100,000
// blobs and ~12,000 tags (lib/scale-fill.mjs), each timed with its peak RSS.
// gc runs last: it sweeps the unreferenced blobs the fill left.
import { fillShape, fillStore } from './lib/scale-fill.mjs';
import { ferry, log, workPath } from './lib/context.mjs';
import { fmtSeconds } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export async function measureStore(ctx) {
  const shape = fillShape(ctx.quick);
  const store = workPath(ctx, 'big-store');
  const t0 = Date.now();
  await fillStore(store, shape);
  log(`  filled a store with ${shape.blobs} blobs, ${shape.tags} tags in ${shape.repos} repositories (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const rows = [];
  for (const action of ['ls', 'usage', 'gc']) {
    const r = await ferry(ctx, ['store', action, '--store', store]);
    const mib = r.maxRssKb / 1024;
    log(`  store ${action}: ${fmtSeconds(r.wallMs)}, rss ${mib.toFixed(0)} MiB`);
    rows.push(row({
      measure: `ferry store ${action}, ${shape.blobs} blobs / ${shape.tags} tags`,
      ferry: `${fmtSeconds(r.wallMs)}, ${mib.toFixed(0)} MiB RSS`,
      goal: '≤ 10 s, ≤ 200 MiB',
      pass: r.wallMs <= 10_000 && mib <= 200,
    }));
  }
  return rows;
}
