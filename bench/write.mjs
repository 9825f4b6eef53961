// Bundle write from the store: writeBundle (bench/lib/write-bundle.mjs, its
// own process: start-up included, registry round trips not) over the store the
// export filled, writing the same bytes as the first bundle, against `cp BUNDLE COPY && sync
// COPY` of the same number of bytes: the disk-bound limit (both end with an
// fsync of the written file). cp copies inside the kernel (copy_file_range on
// ext4), which ferry cannot, since it hashes every byte it writes; so two
// context rows: `dd bs=1M conv=fsync` (read + write through user space, then
// fsync), and the same work as ferry's with native tools, `openssl dgst
// -sha256` of the bytes then cp + sync (what the goal is not: cp hashes
// nothing, and its whole CPU time, ~0.1 s per 300 MiB, is below sha256's alone).
// Each run logs CPU time (user + sys) beside the wall time, and ferry's own
// split: start-up (node, modules, opening the store; its wall and CPU time, and
// whether the modules came from the CLI's bundle, as `ferry export` loads them,
// or from dist/) and writeBundle itself.
// A fourth row is the floor of any writer run by node: `node -e 0` timed in the
// same run, plus cp + sync. Bare node's start-up is most of cp + sync's whole
// time on 2 cores (0.11-0.5 s against 0.27-0.8 s here), so that row says how
// much of the goal's gap is the interpreter rather than the write.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBundle, log, REPO_ROOT, sizeOf, workPath } from './lib/context.mjs';
import { runTimed } from './lib/run-timed.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtRate, median, paired } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'bundle write from the store vs cp + sync';

const cpu = (r) => (Number.isFinite(r.cpuMs) ? `, cpu ${(r.cpuMs / 1000).toFixed(2)} s` : '');

export async function measure(ctx) {
  const { bundle, store } = await ensureBundle(ctx);
  const bytes = await sizeOf(bundle);
  const f = [];
  const c = [];
  const d = [];
  const o = [];
  const n = [];
  for (let run = 1; run <= ctx.runs; run++) {
    const out = workPath(ctx, 'rewrite.tar');
    const fr = await runTimed(process.execPath, [join(REPO_ROOT, 'bench', 'lib', 'write-bundle.mjs'), store, out, ...ctx.refs]);
    const written = await sizeOf(out);
    if (written !== bytes) throw new Error(`the rewritten bundle has ${written} bytes, the first ${bytes}`);
    await rm(out);
    const split = JSON.parse(fr.stdout.trim().split('\n').pop() ?? '{}');
    const copy = workPath(ctx, 'copy.tar');
    const cr = await runTimed('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', bundle, copy]);
    await rm(copy);
    const dr = await runTimed('dd', [`if=${bundle}`, `of=${copy}`, 'bs=1M', 'conv=fsync', 'status=none']);
    await rm(copy);
    const or = await runTimed('sh', ['-c', 'openssl dgst -sha256 "$1" >/dev/null && cp "$1" "$2" && sync "$2"', 'sh', bundle, copy]);
    await rm(copy);
    const nr = await runTimed(process.execPath, ['-e', '0']);
    f.push(fr.wallMs);
    c.push(cr.wallMs);
    d.push(dr.wallMs);
    o.push(or.wallMs);
    n.push(nr.wallMs + cr.wallMs);
    log(
      `  run ${run}: ferry ${fmtRate(bytes, fr.wallMs)}${cpu(fr)} (start-up ${split.startMs} ms, cpu ${split.startCpuMs} ms, modules from ${split.loaded}; writeBundle ${split.writeMs} ms),` +
        ` cp+sync ${fmtRate(bytes, cr.wallMs)}${cpu(cr)}, dd ${fmtRate(bytes, dr.wallMs)}${cpu(dr)}, openssl+cp+sync ${fmtRate(bytes, or.wallMs)}${cpu(or)},` +
        ` node -e 0 ${Math.round(nr.wallMs)} ms${cpu(nr)}`,
    );
  }
  const fm = median(f);
  const cm = median(c);
  const dm = median(d);
  const om = median(o);
  const nm = median(n);
  return [
    row({
      measure: 'bundle write from a warm store (throughput)',
      ferry: fmtRate(bytes, fm),
      peer: `${fmtRate(bytes, cm)} cp+sync`,
      ...paired(c, f),
      ratioOf: 'ferry/cp throughput',
      goal: '≥ 0.8',
      pass: paired(c, f).ratio >= 0.8,
    }),
    row({
      measure: 'bundle write from a warm store vs a user-space copy (throughput)',
      ferry: fmtRate(bytes, fm),
      peer: `${fmtRate(bytes, dm)} dd bs=1M conv=fsync`,
      ...paired(d, f),
      ratioOf: 'ferry/dd throughput',
      goal: '(context)',
    }),
    row({
      measure: 'bundle write from a warm store vs the same work with native tools (throughput)',
      ferry: fmtRate(bytes, fm),
      peer: `${fmtRate(bytes, om)} openssl sha256 + cp + sync`,
      ...paired(o, f),
      ratioOf: 'ferry/(openssl+cp) throughput',
      goal: '(context)',
    }),
    row({
      measure: 'bundle write from a warm store vs bare node start-up + cp + sync (throughput)',
      ferry: fmtRate(bytes, fm),
      peer: `${fmtRate(bytes, nm)} node -e 0, then cp + sync`,
      ...paired(n, f),
      ratioOf: 'ferry/(node start + cp) throughput',
      goal: '(context)',
    }),
  ];
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
