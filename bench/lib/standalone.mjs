// Lets each bench/<measure>.mjs run on its own (`node bench/export.mjs --quick`)
// with the same context, table and cleanup as `npm run bench`.
import { fileURLToPath } from 'node:url';
import { createContext, log, parseArgs } from './context.mjs';
import { formatTable } from './table.mjs';

export function isMain(url) {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}

export async function runStandalone(measures) {
  const args = parseArgs(process.argv.slice(2));
  const ctx = await createContext(args);
  try {
    for (const m of measures) {
      log(`== ${m.title}`);
      ctx.rows.push(...(await m.measure(ctx)));
    }
    process.stdout.write(`${formatTable(ctx.rows)}\n`);
    for (const n of ctx.notes) process.stdout.write(`- ${n}\n`);
  } finally {
    await ctx.close();
  }
}
