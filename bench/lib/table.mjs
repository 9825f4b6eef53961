// The printed table: one row per figure, ferry beside its peer, the ratio and
// the goal it is held to.
import { fmtRatio } from './stats.mjs';

/** row: { measure, ferry, peer, ratio, ratioOf, goal, pass } (strings but ratio; pass true/false/undefined). */
export function row(fields) {
  return { peer: '—', ratio: NaN, ratioOf: '', goal: '—', pass: undefined, ...fields };
}

export function formatTable(rows) {
  const header = ['measure', 'ferry', 'peer', 'ratio', 'goal', 'met'];
  const lines = rows.map((r) => [
    r.measure,
    r.ferry,
    r.peer,
    Number.isFinite(r.ratio) ? `${fmtRatio(r.ratio)}${r.ratioOf ? ` (${r.ratioOf})` : ''}` : '—',
    r.goal,
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  ]);
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const l of lines) out.push(`| ${l.join(' | ')} |`);
  return out.join('\n');
}
