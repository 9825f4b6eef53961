// Peak RSS moving one image with a single big layer (2 GiB; quick: 256 MiB)
// and one with a small layer (64 MiB; quick: 32 MiB), export (registry →
// bundle, empty store) and import (bundle → empty registry), ferry against
// skopeo doing the same through dir:. Memory must be flat in layer size: the
// big and small figures should match. Peak RSS is GNU time's %M. One run each
// (the multi-GiB copies dominate the bench's time); wall times are shown too.
import { mkdir } from 'node:fs/promises';
import { ferry, log, skopeo, workPath } from './lib/context.mjs';
import { startRegistry } from './lib/registry.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtBytes, fmtSeconds } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'peak RSS, big layer vs small layer';

const mb = (kb) => `${(kb / 1024).toFixed(0)} MiB`;

async function oneImage(ctx, image) {
  const ref = `${ctx.source.host}/${image.ref}`;
  const out = {};
  const store = workPath(ctx, 'store');
  const bundle = workPath(ctx, 'bundle.tar');
  out.ferryExport = await ferry(ctx, ['export', ref, '-o', bundle, '--plain-http', '--store', store]);
  const dir = workPath(ctx, 'skopeo-dir');
  await mkdir(dir, { recursive: true });
  out.skopeoExport = await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${ref}`, `dir:${dir}`]);
  for (const [tool, key] of [['ferry', 'ferryImport'], ['skopeo', 'skopeoImport']]) {
    const target = await startRegistry({ workDir: ctx.work });
    try {
      out[key] =
        tool === 'ferry'
          ? await ferry(ctx, ['import', bundle, '--to', target.host, '--plain-http'])
          : await skopeo(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `dir:${dir}`, `docker://${target.host}/${image.ref.split(':')[0]}:${image.ref.split(':')[1]}`]);
    } finally {
      await target.stop();
    }
  }
  for (const [k, v] of Object.entries(out)) log(`  ${image.ref} ${k}: ${fmtSeconds(v.wallMs)}, peak RSS ${mb(v.maxRssKb)}`);
  return { ...out, bundle, store };
}

export async function measure(ctx) {
  const big = ctx.set.extra.big;
  const small = ctx.set.extra.small;
  const sizeOf = (img) => img.blobs.reduce((n, b) => n + b.size, 0);
  const s = await oneImage(ctx, small);
  const b = await oneImage(ctx, big);
  ctx.artefacts.bigBundle = b.bundle;
  const rows = [];
  for (const [label, f, p] of [
    ['export', 'ferryExport', 'skopeoExport'],
    ['import', 'ferryImport', 'skopeoImport'],
  ]) {
    rows.push(
      row({
        measure: `peak RSS ${label}, one ${fmtBytes(sizeOf(big))} layer (vs one ${fmtBytes(sizeOf(small))} layer)`,
        ferry: `${mb(b[f].maxRssKb)} (${mb(s[f].maxRssKb)}); ${fmtSeconds(b[f].wallMs)}`,
        peer: `${mb(b[p].maxRssKb)} (${mb(s[p].maxRssKb)}) skopeo; ${fmtSeconds(b[p].wallMs)}`,
        ratio: b[f].maxRssKb / s[f].maxRssKb,
        ratioOf: 'ferry big/small RSS',
        goal: '≤ 150 MiB, flat',
        pass: b[f].maxRssKb <= 150 * 1024 && b[f].maxRssKb / s[f].maxRssKb <= 1.15,
      }),
    );
  }
  return rows;
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
