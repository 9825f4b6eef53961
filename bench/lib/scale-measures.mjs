// One size N of the scale bench: ferry export/import/inspect/verify of the N
// generated images beside `skopeo sync` (yaml → dir:, dir: → an empty
// registry) and `openssl dgst -sha256`, run back to back so their ratio holds
// under load. Returns the raw figures; bench/scale.mjs makes the table.
import { stat, writeFile } from 'node:fs/promises';
import { ensureScaleSet } from './scale-set.mjs';
import { measureTrust } from './scale-trust.mjs';
import { startRegistry } from './registry.mjs';
import { runTimed } from './run-timed.mjs';
import { median } from './stats.mjs';
import { ferry, log, workPath } from './context.mjs';

const perImage = (r, n) => r.wallMs / n;
/** Inspect and verify take well under a second at every N, so one run is mostly noise: each is run this many times. */
const INSPECT_RUNS = 5;
const VERIFY_RUNS = 3;

async function withRegistry(ctx, storageDir, fn) {
  const registry = await startRegistry({ storageDir, workDir: ctx.work });
  try {
    return await fn(registry);
  } finally {
    await registry.stop();
  }
}

async function exportBoth(ctx, set, source) {
  const refs = set.images.map((i) => `${source.host}/${i.ref}`);
  const spec = workPath(ctx, 'images.yaml');
  await writeFile(spec, JSON.stringify({ apiVersion: 'ferry/v1', kind: 'Bundle', metadata: { name: 'scale' }, images: refs.map((ref) => ({ ref })) }));
  const store = workPath(ctx, 'store');
  const bundle = workPath(ctx, 'bundle.tar');
  const f = await ferry(ctx, ['export', '-f', spec, '-o', bundle, '--plain-http', '--store', store]);
  const yaml = workPath(ctx, 'skopeo.yaml');
  const images = Object.fromEntries(set.images.map((i) => [i.repo, [i.tag]]));
  await writeFile(yaml, JSON.stringify({ [source.host]: { 'tls-verify': false, images } }));
  const dir = workPath(ctx, 'skopeo-dir');
  const s = await runTimed('skopeo', ['sync', '--all', '--preserve-digests', '--src', 'yaml', '--dest', 'dir', yaml, dir]);
  return { f, s, bundle, dir };
}

// Each side imports twice into its own registry: into an empty one, then again into the one that now holds it
// all (a mirroring job's rerun: every blob asked about, nothing moved).
async function importBoth(ctx, bundle, dir) {
  const twice = (run) => withRegistry(ctx, undefined, async (target) => ({ first: await run(target), again: await run(target) }));
  const f = await twice((target) => ferry(ctx, ['import', bundle, '--to', target.host, '--plain-http']));
  const s = await twice((target) =>
    runTimed('skopeo', ['sync', '--all', '--preserve-digests', '--src', 'dir', '--dest', 'docker', '--dest-tls-verify=false', dir, `${target.host}/scale`]));
  return { f: f.first, s: s.first, fAgain: f.again, sAgain: s.again };
}

/** Figures for N images: per-image ms, peak RSS KiB, inspect ms, verify and openssl MiB/s. */
export async function measureSize(ctx, n) {
  const set = await ensureScaleSet(ctx.root, n, log);
  const source = await startRegistry({ storageDir: set.storageDir, workDir: ctx.work });
  try {
    const runs = [];
    for (let run = 1; run <= ctx.runs; run++) {
      const ex = await exportBoth(ctx, set, source);
      const im = await importBoth(ctx, ex.bundle, ex.dir);
      const inspects = [];
      for (let i = 0; i < INSPECT_RUNS; i++) inspects.push((await ferry(ctx, ['inspect', ex.bundle])).wallMs);
      const { size } = await stat(ex.bundle);
      await runTimed('openssl', ['dgst', '-sha256', ex.bundle]); // page cache warm for both
      const verifies = [];
      const openssls = [];
      // The floor of any verifier run by node: bare node's start-up, then openssl's hashing of the same bytes.
      const nodes = [];
      for (let i = 0; i < VERIFY_RUNS; i++) {
        verifies.push((await ferry(ctx, ['verify', ex.bundle])).wallMs);
        openssls.push((await runTimed('openssl', ['dgst', '-sha256', ex.bundle])).wallMs);
        nodes.push((await runTimed(process.execPath, ['-e', '0'])).wallMs);
      }
      const inspect = { wallMs: median(inspects) };
      const verify = { wallMs: median(verifies) };
      const openssl = { wallMs: median(openssls) };
      const fig = {
        exportMs: perImage(ex.f, n), skopeoExportMs: perImage(ex.s, n),
        importMs: perImage(im.f, n), skopeoImportMs: perImage(im.s, n),
        reimportMs: perImage(im.fAgain, n), skopeoReimportMs: perImage(im.sAgain, n),
        exportRssKb: ex.f.maxRssKb, skopeoExportRssKb: ex.s.maxRssKb,
        importRssKb: im.f.maxRssKb, skopeoImportRssKb: im.s.maxRssKb,
        inspectMs: inspect.wallMs, inspectsMs: inspects,
        bundleBytes: size, verifyMs: verify.wallMs, opensslMs: openssl.wallMs,
        verifyRatios: verifies.map((v, i) => openssls[i] / v),
        nodeFloorMs: median(nodes.map((x, i) => x + openssls[i])),
        nodeFloorRatios: nodes.map((x, i) => openssls[i] / (x + openssls[i])),
      };
      log(`  N=${n} run ${run}: export ${fig.exportMs.toFixed(1)} vs skopeo ${fig.skopeoExportMs.toFixed(1)} ms/image; import ${fig.importMs.toFixed(1)} vs ${fig.skopeoImportMs.toFixed(1)} ms/image; again ${fig.reimportMs.toFixed(1)} vs ${fig.skopeoReimportMs.toFixed(1)} ms/image; inspect ${inspects.map((x) => x.toFixed(0)).join('/')} ms; verify ${verifies.map((x) => x.toFixed(0)).join('/')} vs openssl ${openssls.map((x) => x.toFixed(0)).join('/')} ms (node -e 0 ${nodes.map((x) => x.toFixed(0)).join('/')} ms)`);
      runs.push(fig);
    }
    const trust = await measureTrust(ctx, set);
    log(`  N=${n} signed: export ${trust.plainExportMs.toFixed(1)} / ${trust.trustExportMs.toFixed(1)} ms/image with --require-signed-by; import --dry-run ${trust.plainDryMs.toFixed(2)} / ${trust.trustDryMs.toFixed(2)} ms/image`);
    return { n, set, runs, trust };
  } finally {
    await source.stop();
  }
}
