// Delta bundle: import the full bundle into an empty registry, take `ferry
// inventory` of it, then `ferry export bench/web:1.1 --since INVENTORY` (web:1.0
// plus one new app layer). The delta should carry the new bytes (the new
// layer, config and manifest) plus the bundle's own metadata, nothing more.
// The delta is then imported on top, and web:1.1 must resolve there.
import { ensureBundle, ferry, sizeOf, workPath } from './lib/context.mjs';
import { startRegistry } from './lib/registry.mjs';
import { checkLanded } from './import.mjs';
import { isMain, runStandalone } from './lib/standalone.mjs';
import { fmtBytes } from './lib/stats.mjs';
import { row } from './lib/table.mjs';

export const title = 'delta bundle after one new app layer';

export async function measure(ctx) {
  const { bundle } = await ensureBundle(ctx);
  const image = ctx.set.extra.delta;
  const target = await startRegistry({ workDir: ctx.work });
  try {
    await ferry(ctx, ['import', bundle, '--to', target.host, '--plain-http']);
    const inventory = workPath(ctx, 'inventory.json');
    await ferry(ctx, ['inventory', target.host, '-o', inventory, '--plain-http']);
    const delta = workPath(ctx, 'delta.tar');
    await ferry(ctx, ['export', `${ctx.source.host}/${image.ref}`, '-o', delta, '--since', inventory, '--plain-http', '--store', workPath(ctx, 'store')]);
    await ferry(ctx, ['import', delta, '--to', target.host, '--plain-http']);
    await checkLanded(ctx, target, [image]);
    const bytes = await sizeOf(delta);
    return [
      row({
        measure: 'delta bundle: web:1.1 = web:1.0 + one new layer, --since an inventory of the target',
        ferry: `${fmtBytes(bytes)} (${bytes} B)`,
        peer: `new bytes ${fmtBytes(image.newBytes)} (${image.newBytes} B)`,
        ratio: bytes / image.newBytes,
        ratioOf: 'delta/new bytes',
        goal: `= new bytes + metadata (overhead ${fmtBytes(bytes - image.newBytes)})`,
        pass: bytes - image.newBytes < 256 * 1024,
      }),
    ];
  } finally {
    await target.stop();
  }
}

if (isMain(import.meta.url)) await runStandalone([{ title, measure }]);
