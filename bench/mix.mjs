// export of the realistic mix (lib/mix-set.mjs: a foreign layer served by its
// urls, an OCI referrer, cosign .sig tags, a buildx attestation index) from an
// empty store each run, against skopeo's air-gap path on the same list
// (`skopeo copy --all --preserve-digests docker://… dir:…` per tag). Both sides
// move the same set: skopeo is also given what ferry finds and carries beside
// the images (the cosign `.sig` tags and the referrer, by digest), which it
// cannot discover itself; ferry also writes, fsyncs and records the bundle.
// Standalone: `node bench/mix.mjs [--runs N] [--profile]` (no image set needed).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ferry, imageSpec, log, parseArgs, REPO_ROOT, skopeo, workPath } from './lib/context.mjs';
import { seedMix } from './lib/mix-set.mjs';
import { startRegistry } from './lib/registry.mjs';
import { isMain } from './lib/standalone.mjs';
import { fmtBytes, fmtSeconds, median, paired } from './lib/stats.mjs';
import { formatTable, row } from './lib/table.mjs';

export const title = 'export of the realistic mix (foreign layer, referrer, .sig, attestations)';

export async function measure(ctx) {
  const work = workPath(ctx, 'mix');
  await mkdir(work, { recursive: true });
  const registry = await startRegistry({ workDir: work });
  const mix = await seedMix(registry.url, work);
  try {
    const refs = mix.refs.map((r) => `${registry.host}/${r}`);
    const peerRefs = [...refs, ...mix.extras.map((r) => `${registry.host}/${r}`)];
    const f = [];
    const s = [];
    for (let run = 1; run <= ctx.runs; run++) {
      const store = workPath(ctx, 'mix-store');
      const r = await ferry(ctx, ['export', ...(await imageSpec(ctx, refs)), '-o', workPath(ctx, 'mix.tar'), '--plain-http', '--store', store]);
      f.push(r.wallMs);
      let skopeoMs = 0;
      for (const [i, ref] of peerRefs.entries()) {
        const dir = join(work, `skopeo-${run}-${i}`);
        const sr = await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${ref}`, `dir:${dir}`]);
        skopeoMs += sr.wallMs;
      }
      s.push(skopeoMs);
      log(`  run ${run}: ferry ${fmtSeconds(r.wallMs)} (cpu ${fmtSeconds(r.cpuMs ?? NaN)}), skopeo ${fmtSeconds(skopeoMs)}`);
      await rm(store, { recursive: true, force: true });
    }
    return [
      row({
        measure: `export the mix: ${refs.length} images (${fmtBytes(mix.unique)}) with a foreign layer, referrer, .sig, attestations`,
        ferry: fmtSeconds(median(f)),
        peer: `${fmtSeconds(median(s))} skopeo dir: (${refs.length} images + ${mix.extras.length} .sig/referrers)`,
        ...paired(f, s),
        ratioOf: 'ferry/skopeo time',
        goal: '≤ 0.4',
        pass: paired(f, s).ratio <= 0.4,
      }),
    ];
  } finally {
    await mix.foreign.stop();
    await registry.stop();
  }
}

if (isMain(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  const work = join(REPO_ROOT, '.bench', 'work-mix');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const ctx = { args, runs: args.runs, work };
  try {
    log(`== ${title}`);
    process.stdout.write(`${formatTable(await measure(ctx))}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
