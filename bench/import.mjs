// import bundle → registry: `ferry import BUNDLE --to HOST` into a fresh, empty
// docker-registry each run, against `skopeo copy --all --preserve-digests
// dir:… docker://…` of the same images (the dir: copies skopeo's export made),
// once per tag in sequence, into another fresh registry. Registry start-up is
// outside the timed region. After ferry's run every tag is checked to resolve
// to the digest it had at the source. The floor (lib/floor-push.mjs) pushes the
// same dir: copies with ferry's concurrency and nothing else, into a third fresh
// registry: ferry/floor is ferry's own share of the import.
import { fileURLToPath } from 'node:url';
import { ensureBundle, ensureSkopeoDirs, ferry, log, pathOf, skopeo } from './lib/context.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { startRegistry } from './lib/registry.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtSeconds, median, paired } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'import bundle → registry';

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Every image of the set is in `registry` under its path, at its source digest. */
export async function checkLanded(ctx, registry, images = ctx.set.images) {
  for (const image of images) {
    const [repo, tag] = image.ref.split(':');
    const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: ACCEPT } });
    const digest = res.headers.get('docker-content-digest');
    if (res.status !== 200 || digest !== image.digest) throw new Error(`${image.ref} did not land: HTTP ${res.status}, ${digest} instead of ${image.digest}`);
  }
}

/** The import, and the CPU the target registry spent meanwhile (its ingest: what the floor is made of). */
async function ferryImport(ctx, bundle, check) {
  const target = await startRegistry({ workDir: ctx.work });
  try {
    const before = target.cpuMs();
    const r = await ferry(ctx, ['import', bundle, '--to', target.host, '--plain-http']);
    const registryCpuMs = target.cpuMs() - before;
    if (check) await checkLanded(ctx, target);
    return { ...r, registryCpuMs };
  } finally {
    await target.stop();
  }
}

async function skopeoImport(ctx, dirs) {
  const target = await startRegistry({ workDir: ctx.work });
  try {
    let wallMs = 0;
    let maxRssKb = 0;
    for (const { ref, dir } of dirs) {
      const r = await skopeo(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `dir:${dir}`, `docker://${target.host}/${pathOf(ref)}`]);
      wallMs += r.wallMs;
      maxRssKb = Math.max(maxRssKb, r.maxRssKb ?? 0);
    }
    return { wallMs, maxRssKb };
  } finally {
    await target.stop();
  }
}

const FLOOR_PUSH = fileURLToPath(new URL('./lib/floor-push.mjs', import.meta.url));
/** ferry import's default --concurrency (src/core/limits.ts DEFAULT_CONCURRENCY). */
const FERRY_CONCURRENCY = 4;

async function floorImport(ctx, dirs, check) {
  const target = await startRegistry({ workDir: ctx.work });
  try {
    const pairs = dirs.map(({ ref, dir }) => `${pathOf(ref)}=${dir}`);
    const before = target.cpuMs();
    const r = await runTimed(process.execPath, [FLOOR_PUSH, target.url, String(ctx.args.concurrency ?? FERRY_CONCURRENCY), ...pairs]);
    const registryCpuMs = target.cpuMs() - before;
    if (check) await checkLanded(ctx, target);
    return { ...r, registryCpuMs };
  } finally {
    await target.stop();
  }
}

export async function measure(ctx) {
  const { bundle } = await ensureBundle(ctx);
  const dirs = await ensureSkopeoDirs(ctx);
  const f = [];
  const s = [];
  const fl = [];
  const cpu = [];
  for (let run = 1; run <= ctx.runs; run++) {
    const fr = await ferryImport(ctx, bundle, run === 1);
    f.push(fr.wallMs);
    cpu.push({ ferry: fr.cpuMs, registry: fr.registryCpuMs });
    log(`  run ${run}: ferry ${fmtSeconds(fr.wallMs)} (rss ${(fr.maxRssKb / 1024).toFixed(0)} MiB, cpu ${fmtSeconds(fr.cpuMs)}; the registry's cpu meanwhile ${fmtSeconds(fr.registryCpuMs)})`);
    const sr = await skopeoImport(ctx, dirs);
    s.push(sr.wallMs);
    log(`  run ${run}: skopeo ${fmtSeconds(sr.wallMs)} (rss ${(sr.maxRssKb / 1024).toFixed(0)} MiB)`);
    const lr = await floorImport(ctx, dirs, run === 1);
    fl.push(lr.wallMs);
    cpu[cpu.length - 1].floor = lr.cpuMs;
    cpu[cpu.length - 1].floorRegistry = lr.registryCpuMs;
    log(`  run ${run}: floor ${fmtSeconds(lr.wallMs)} (cpu ${fmtSeconds(lr.cpuMs)}; the registry's cpu meanwhile ${fmtSeconds(lr.registryCpuMs)})`);
  }
  const fm = median(f);
  const sm = median(s);
  const vsSkopeo = paired(f, s);
  const vsFloor = paired(f, fl);
  const floorVsSkopeo = paired(fl, s);
  const cpuOf = (who) => median(cpu.map((c) => c[who]));
  return [
    row({
      measure: `import ${ctx.refs.length} images bundle → empty registry`,
      ferry: fmtSeconds(fm),
      peer: `${fmtSeconds(sm)} skopeo dir:`,
      ...vsSkopeo,
      ratioOf: 'ferry/skopeo time',
      goal: '≤ 0.5',
      pass: vsSkopeo.ratio <= 0.5,
    }),
    row({
      measure: `import ${ctx.refs.length} images: ferry against the floor`,
      ferry: fmtSeconds(fm),
      peer: `${fmtSeconds(median(fl))} floor (streamed push, same concurrency, no checks)`,
      ...vsFloor,
      ratioOf: 'ferry/floor time',
      goal: '≤ 1.15',
      pass: vsFloor.ratio <= 1.15,
    }),
    // When the floor alone is over 0.5 of skopeo, the first row's goal is out of reach of any client
    // that pushes into this registry on this machine: the registry's ingest is the bound.
    row({
      measure: `import ${ctx.refs.length} images: the floor against skopeo (CPU, ferry's import: ferry ${fmtSeconds(cpuOf('ferry'))} + the registry ${fmtSeconds(cpuOf('registry'))}; the floor's: ${fmtSeconds(cpuOf('floor'))} + ${fmtSeconds(cpuOf('floorRegistry'))})`,
      ferry: `${fmtSeconds(median(fl))} floor`,
      peer: `${fmtSeconds(sm)} skopeo dir:`,
      ...floorVsSkopeo,
      ratioOf: 'floor/skopeo time',
      goal: '(context)',
    }),
  ];
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
