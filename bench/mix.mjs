// export of the realistic mix (lib/mix-set.mjs: a foreign layer served by its
// urls, an OCI referrer, cosign .sig tags, a buildx attestation index) from an
// empty store each run, against skopeo's air-gap path on the same list
// (`skopeo copy --all --preserve-digests docker://… dir:…` per tag). Both sides
// move the same set: skopeo is also given what ferry finds and carries beside
// the images (the cosign `.sig` tags and the referrer, by digest), which it
// cannot discover itself; ferry also writes, fsyncs and records the bundle.
// Two floors, each handed the plan (every URL), nothing checked or recorded:
// a node client (lib/floor-pull.mjs: node:http, the bytes into one file, one
// fdatasync), whose time over skopeo's says what any exporter run by node can
// reach on these servers and cores (ferry/floor is ferry's own share); and a
// native one (curl --parallel, a file per item, no fsync), what a client
// without node's start-up and per-chunk costs reaches.
// Standalone: `node bench/mix.mjs [--runs N] [--profile]` (no image set needed).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ferry, imageSpec, log, parseArgs, REPO_ROOT, skopeo, workPath } from './lib/context.mjs';
import { curlConfigText } from './lib/curl-config.mjs';
import { seedMix } from './lib/mix-set.mjs';
import { startRegistry } from './lib/registry.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { isMain } from './lib/standalone.mjs';
import { fmtBytes, fmtSeconds, median, paired } from './lib/stats.mjs';
import { formatTable, row } from './lib/table.mjs';

export const title = 'export of the realistic mix (foreign layer, referrer, .sig, attestations)';

const FLOOR_PULL = fileURLToPath(new URL('./lib/floor-pull.mjs', import.meta.url));
/** ferry export's default --concurrency (src/core/limits.ts DEFAULT_CONCURRENCY). */
const FERRY_CONCURRENCY = 4;

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
    const fl = [];
    const cl = [];
    const plan = join(work, 'floor-plan.json');
    await writeFile(plan, JSON.stringify(mix.carried));
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
      const floorOut = workPath(ctx, 'mix-floor.out');
      const lr = await runTimed(process.execPath, [FLOOR_PULL, floorOut, String(ctx.args.concurrency ?? FERRY_CONCURRENCY), plan]);
      await rm(floorOut, { force: true });
      fl.push(lr.wallMs);
      const curlDir = join(work, `curl-${run}`);
      await mkdir(curlDir);
      const cr = await runTimed('curl', ['-s', '--parallel', '--parallel-max', String(ctx.args.concurrency ?? FERRY_CONCURRENCY), '-K', await curlConfig(mix.carried, curlDir)]);
      await rm(curlDir, { recursive: true, force: true });
      cl.push(cr.wallMs);
      log(`  run ${run}: ferry ${fmtSeconds(r.wallMs)} (cpu ${fmtSeconds(r.cpuMs ?? NaN)}), skopeo ${fmtSeconds(skopeoMs)}, node floor ${fmtSeconds(lr.wallMs)} (cpu ${fmtSeconds(lr.cpuMs ?? NaN)}), curl ${fmtSeconds(cr.wallMs)}`);
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
      row({
        measure: `export the mix: ferry against a node client's floor (${mix.carried.length} items GET'd into one file at the same concurrency, nothing checked or recorded)`,
        ferry: fmtSeconds(median(f)),
        peer: `${fmtSeconds(median(fl))} node floor`,
        ...paired(f, fl),
        ratioOf: 'ferry/floor time',
        goal: '(context)',
      }),
      row({
        measure: 'export the mix: the node floor against skopeo (the best an exporter run by node could do here: GETs and one write per byte)',
        ferry: `${fmtSeconds(median(fl))} node floor`,
        peer: `${fmtSeconds(median(s))} skopeo dir:`,
        ...paired(fl, s),
        ratioOf: 'floor/skopeo time',
        goal: '(context)',
      }),
      row({
        measure: 'export the mix: a native floor against skopeo (curl --parallel, same concurrency, a file per item, no fsync)',
        ferry: `${fmtSeconds(median(cl))} curl`,
        peer: `${fmtSeconds(median(s))} skopeo dir:`,
        ...paired(cl, s),
        ratioOf: 'curl/skopeo time',
        goal: '(context)',
      }),
    ];
  } finally {
    await mix.foreign.stop();
    await registry.stop();
  }
}

/** A curl config (-K) that GETs each carried item into DIR/<n>, with its manifest's Accept; an HTTP error fails the run. */
async function curlConfig(items, dir) {
  const path = join(dir, 'curl.cfg');
  await writeFile(path, curlConfigText(items.map((item, i) => ({ url: item.url, output: join(dir, String(i)), accept: item.accept, lines: ['fail'] }))));
  return path;
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
