// export registry → bundle: `ferry export` of the whole list from an EMPTY
// store each run (registry → store → bundle, fsyncs included), against skopeo's
// air-gap path: `skopeo copy --all --preserve-digests docker://… dir:…` once per
// tag, in sequence, as a script would. Also reports bundle bytes / unique bytes.
// ferry reads the list from a spec file (-f), as bundles/*.yaml do.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBundle, ferry, imageSpec, log, sizeOf, skopeo, workPath } from './lib/context.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtBytes, fmtSeconds, median, paired } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'export registry → bundle';

async function ferryExport(ctx) {
  const store = workPath(ctx, 'store');
  const bundle = workPath(ctx, 'bundle.tar');
  const r = await ferry(ctx, ['export', ...(await imageSpec(ctx, ctx.refs)), '-o', bundle, '--plain-http', '--store', store]);
  return { ...r, store, bundle };
}

async function skopeoExport(ctx) {
  const base = workPath(ctx, 'skopeo');
  await mkdir(base, { recursive: true });
  const dirs = [];
  let wallMs = 0;
  let maxRssKb = 0;
  for (const [i, ref] of ctx.refs.entries()) {
    const dir = join(base, String(i));
    const r = await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${ref}`, `dir:${dir}`]);
    wallMs += r.wallMs;
    maxRssKb = Math.max(maxRssKb, r.maxRssKb ?? 0);
    dirs.push({ ref, dir });
  }
  return { wallMs, maxRssKb, dirs };
}

export async function measure(ctx) {
  const f = [];
  const s = [];
  for (let run = 1; run <= ctx.runs; run++) {
    const fr = await ferryExport(ctx);
    f.push(fr.wallMs);
    log(`  run ${run}: ferry ${fmtSeconds(fr.wallMs)} (rss ${(fr.maxRssKb / 1024).toFixed(0)} MiB)`);
    const sr = await skopeoExport(ctx);
    s.push(sr.wallMs);
    log(`  run ${run}: skopeo ${fmtSeconds(sr.wallMs)} (rss ${(sr.maxRssKb / 1024).toFixed(0)} MiB)`);
    // Keep the last run's outputs for the measures that follow.
    ctx.artefacts.bundle = fr.bundle;
    ctx.artefacts.store = fr.store;
    ctx.artefacts.skopeoDirs = sr.dirs;
  }
  await ensureBundle(ctx);
  const bundleBytes = await sizeOf(ctx.artefacts.bundle);
  const unique = ctx.set.unique.bytes;
  if (bundleBytes < unique) throw new Error(`the bundle holds ${bundleBytes} bytes, less than the ${unique} unique bytes of the images: some were left out`);
  const fm = median(f);
  const sm = median(s);
  return [
    row({
      measure: `export ${ctx.refs.length} images (${fmtBytes(unique)} unique) registry → bundle, empty store`,
      ferry: fmtSeconds(fm),
      peer: `${fmtSeconds(sm)} skopeo dir:`,
      ...paired(f, s),
      ratioOf: 'ferry/skopeo time',
      goal: '≤ 0.5',
      pass: paired(f, s).ratio <= 0.5,
    }),
    row({
      measure: 'bundle bytes / unique bytes',
      ferry: `${fmtBytes(bundleBytes)} / ${fmtBytes(unique)}`,
      ratio: bundleBytes / unique,
      ratioOf: 'bundle/unique',
      goal: '≤ 1.005',
      pass: bundleBytes / unique <= 1.005,
    }),
  ];
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
