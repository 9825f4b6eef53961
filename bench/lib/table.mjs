// The printed table: one row per figure, ferry beside its peer, the ratio and
// the goal it is held to.
import { fmtRatio } from './stats.mjs';

/**
 * row: { measure, ferry, peer, ratio, spread, ratioOf, goal, pass, load } (strings but ratio;
 * spread [min, max] of the per-run ratios; load the 1-min load average before→after the measure).
 */
export function row(fields) {
  return { peer: '—', ratio: NaN, spread: undefined, ratioOf: '', goal: '—', pass: undefined, load: '', ...fields };
}

function spreadOf(r) {
  return r.spread ? `${fmtRatio(r.spread[0])}–${fmtRatio(r.spread[1])}` : '—';
}

export function formatTable(rows) {
  const header = ['measure', 'ferry', 'peer', 'ratio', 'min–max', 'goal', 'met', 'load'];
  const lines = rows.map((r) => [
    r.measure,
    r.ferry,
    r.peer,
    Number.isFinite(r.ratio) ? `${fmtRatio(r.ratio)}${r.ratioOf ? ` (${r.ratioOf})` : ''}` : '—',
    spreadOf(r),
    r.goal,
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
    r.load,
  ]);
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const l of lines) out.push(`| ${l.join(' | ')} |`);
  return out.join('\n');
}
