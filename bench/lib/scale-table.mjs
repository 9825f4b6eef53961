// The scale bench's two tables: the curve (one column per N) and the goal rows
// (the measures, each held to its goal at the largest N).
import { fmtRatio, median } from './stats.mjs';
import { row } from './table.mjs';

const med = (size, key) => median(size.runs.map((r) => r[key]));
const ratio = (size, a, b) => median(size.runs.map((r) => r[a] / r[b]));
const mib = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MiB` : '–');
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '–');
/** [min, max] over every sample of a per-run list (the runs' inspects, the runs' verify ratios). */
const spreadOf = (size, key) => {
  const all = size.runs.flatMap((r) => r[key] ?? []);
  return all.length > 1 ? [Math.min(...all), Math.max(...all)] : undefined;
};
const rate = (size) => `${(med(size, 'bundleBytes') / 2 ** 20 / (med(size, 'verifyMs') / 1000)).toFixed(0)} MiB/s`;

/** The curve: every figure at every N, ferry beside its peer. */
export function scaleRows(sizes) {
  if (sizes.length === 0) return '';
  const cols = sizes.map((s) => `N=${s.n}`);
  const line = (name, f) => `| ${name} | ${sizes.map(f).join(' | ')} |`;
  return [
    `| per N | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    line('unique blobs / bytes', (s) => `${s.set.unique.blobs} / ${(s.set.unique.bytes / 2 ** 20).toFixed(1)} MiB`),
    line('export, per image: ferry / skopeo sync', (s) => `${ms(med(s, 'exportMs'))} / ${ms(med(s, 'skopeoExportMs'))} (${fmtRatio(ratio(s, 'exportMs', 'skopeoExportMs'))})`),
    line('import, per image: ferry / skopeo sync', (s) => `${ms(med(s, 'importMs'))} / ${ms(med(s, 'skopeoImportMs'))} (${fmtRatio(ratio(s, 'importMs', 'skopeoImportMs'))})`),
    line('import again into the full registry, per image: ferry / skopeo sync', (s) => `${ms(med(s, 'reimportMs'))} / ${ms(med(s, 'skopeoReimportMs'))} (${fmtRatio(ratio(s, 'reimportMs', 'skopeoReimportMs'))})`),
    line('ferry inspect (median; min–max)', (s) => {
      const [lo, hi] = spreadOf(s, 'inspectsMs') ?? [];
      return lo === undefined ? ms(med(s, 'inspectMs')) : `${ms(med(s, 'inspectMs'))} (${lo.toFixed(0)}–${hi.toFixed(0)})`;
    }),
    line('verify: ferry / openssl (throughput ratio)', (s) => `${rate(s)} (${fmtRatio(ratio(s, 'opensslMs', 'verifyMs'))})`),
    line('verify floor of any node tool: node -e 0 + openssl (ratio to openssl)', (s) => (Number.isFinite(med(s, 'nodeFloorMs')) ? `${ms(med(s, 'nodeFloorMs'))} (${fmtRatio(ratio(s, 'opensslMs', 'nodeFloorMs'))})` : '–')),
    line('signed set (a cosign .sig per image): export per image, plain / --require-signed-by', (s) => (s.trust ? `${ms(s.trust.plainExportMs)} / ${ms(s.trust.trustExportMs)} (${fmtRatio(s.trust.trustExportMs / s.trust.plainExportMs)})` : '–')),
    line('signed set: import --dry-run per image, plain / --require-signed-by', (s) => (s.trust ? `${ms(s.trust.plainDryMs)} / ${ms(s.trust.trustDryMs)} (${s.trust.trustDryMs >= s.trust.plainDryMs ? '+' : '−'}${ms(Math.abs(s.trust.trustDryMs - s.trust.plainDryMs))})` : '–')),
    line('peak RSS export: ferry / skopeo', (s) => `${mib(med(s, 'exportRssKb'))} / ${mib(med(s, 'skopeoExportRssKb'))}`),
    line('peak RSS import: ferry / skopeo', (s) => `${mib(med(s, 'importRssKb'))} / ${mib(med(s, 'skopeoImportRssKb'))}`),
  ].join('\n');
}

/** Goal rows for the per-N measures: growth from the N before the largest to the largest, and ratios to the peers. */
export function sizeRows(sizes) {
  if (sizes.length === 0) return [];
  const big = sizes[sizes.length - 1];
  const prev = sizes.length > 1 ? sizes[sizes.length - 2] : undefined;
  const growth = (key) => (prev ? med(big, key) / med(prev, key) : NaN);
  const span = prev ? `N=${prev.n}→${big.n}` : `N=${big.n}`;
  const rows = [];
  for (const [what, key, peer, goal] of [['export', 'exportMs', 'skopeoExportMs', 0.5], ['import', 'importMs', 'skopeoImportMs', 0.6]]) {
    const g = growth(key);
    rows.push(row({ measure: `${what}, time per image, growth ${span}`, ferry: `${ms(med(big, key))}`, ratio: g, ratioOf: 'per-image growth', goal: '≤ 1.2', pass: prev ? g <= 1.2 : undefined }));
    const r = ratio(big, key, peer);
    rows.push(row({ measure: `${what}, time per image at N=${big.n}`, ferry: ms(med(big, key)), peer: `${ms(med(big, peer))} skopeo sync`, ratio: r, ratioOf: 'ferry/skopeo', goal: `≤ ${goal}`, pass: r <= goal }));
  }
  const inspect = med(big, 'inspectMs');
  const inspects = big.runs.flatMap((r) => r.inspectsMs ?? [r.inspectMs]);
  rows.push(row({ measure: `ferry inspect of the N=${big.n} bundle (median of ${inspects.length})`, ferry: `${ms(inspect)} (${Math.min(...inspects).toFixed(0)}–${Math.max(...inspects).toFixed(0)} ms)`, goal: '≤ 300 ms', pass: inspect <= 300 }));
  for (const s of sizes) {
    const r = ratio(s, 'opensslMs', 'verifyMs');
    rows.push(row({ measure: `ferry verify, N=${s.n} (${(med(s, 'bundleBytes') / 2 ** 20).toFixed(1)} MiB)`, ferry: rate(s), peer: 'openssl dgst -sha256', ratio: r, spread: spreadOf(s, 'verifyRatios'), ratioOf: 'ferry/openssl throughput', goal: '≥ 0.8', pass: r >= 0.8 }));
    // Under 0.8, the goal above is out of reach of any verifier node runs, whatever it does after starting.
    if (Number.isFinite(med(s, 'nodeFloorMs'))) {
      const floor = ratio(s, 'opensslMs', 'nodeFloorMs');
      rows.push(row({ measure: `  the floor at N=${s.n}: bare node's start-up (node -e 0), then openssl's hashing`, ferry: ms(med(s, 'nodeFloorMs')), peer: 'openssl dgst -sha256', ratio: floor, spread: spreadOf(s, 'nodeFloorRatios'), ratioOf: 'floor/openssl throughput', goal: '(context)' }));
    }
  }
  for (const [what, key, peer] of [['export', 'exportRssKb', 'skopeoExportRssKb'], ['import', 'importRssKb', 'skopeoImportRssKb']]) {
    const rss = med(big, key);
    rows.push(row({ measure: `peak RSS of ${what} at N=${big.n} (growth ${span})`, ferry: mib(rss), peer: `${mib(med(big, peer))} skopeo`, ratio: growth(key), ratioOf: 'RSS growth', goal: '≤ 200 MiB', pass: rss / 1024 <= 200 }));
  }
  return rows;
}
