#!/usr/bin/env node
// The second half of `npm run build`: bundles tsc's output (dist/cli/main.js
// and everything it imports) into CommonJS chunks in dist/cli-bundle/, one
// chunk per command (each command is a dynamic import in cli/commands/index.ts),
// with the npm packages inlined except better-sqlite3 (native). A CommonJS
// chunk starts without the ES module loader and its ~1 ms per module, which is
// most of a small inspect's or verify's start-up (docs/performance.md).
//
// bin/ferry.cjs runs the bundle only while it is fresh: stamp.json, written
// last, lists every input file with its size and every chunk with its size;
// an input larger, smaller or newer than the stamp (tsc ran again, an edit in
// dist/, another npm package) or a chunk changed or missing sends the CLI back
// to dist/cli/main.js. The stamp holds no time, so two builds of one commit
// give the same bytes (releases are reproducible).
//
// Every module keeps the import.meta.url of its own file in dist/: the worker
// threads (core/range-worker.js, bundle/ring-hash-worker.js), package.json,
// the install root and createRequire resolve exactly as they do unbundled.

import { rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
export const OUT = join(DIST, 'cli-bundle');
const posix = (p) => p.split(sep).join('/');

/** import.meta.url → the URL of the module's own file in dist/, computed from the chunk's directory at run time. */
const ownUrl = {
  name: 'ferry-own-url',
  transform(code, id) {
    if (!code.includes('import.meta.url')) return null;
    if (!id.startsWith(DIST + sep)) throw new Error(`${id} uses import.meta.url outside dist/: the bundle cannot place it`);
    const fromChunk = JSON.stringify(posix(relative(OUT, id)));
    const url = `__ferryFileUrl(__ferryJoin(__dirname, ${fromChunk})).href`;
    const imports = 'import { pathToFileURL as __ferryFileUrl } from "node:url"; import { join as __ferryJoin } from "node:path";\n';
    return { code: imports + code.replaceAll('import.meta.url', url), map: null };
  },
};

export async function bundleCli() {
  await rm(OUT, { recursive: true, force: true });
  const build = await rolldown({
    input: { main: join(DIST, 'cli', 'main.js') },
    platform: 'node',
    external: [/^node:/, 'better-sqlite3'],
    plugins: [ownUrl],
    logLevel: 'warn',
    onLog(level, log) {
      throw new Error(`rolldown ${level}: ${log.message}`);
    },
  });
  const { output } = await build.write({ dir: OUT, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', sourcemap: false });
  await build.close();

  const chunks = output.filter((o) => o.type === 'chunk').sort((a, b) => (a.fileName < b.fileName ? -1 : 1));
  const files = [...new Set(chunks.flatMap((c) => c.moduleIds))].filter((id) => id.startsWith(ROOT + sep)).sort();
  const sizeOf = async (p) => (await stat(p)).size;
  const stamp = {
    inputs: await Promise.all(files.map(async (f) => [posix(relative(ROOT, f)), await sizeOf(f)])),
    chunks: await Promise.all(
      chunks.map(async (c) => ({
        file: c.fileName,
        size: await sizeOf(join(OUT, c.fileName)),
        modules: c.moduleIds.filter((id) => id.startsWith(ROOT + sep)).map((id) => posix(relative(ROOT, id))),
      })),
    ),
  };
  await writeFile(join(OUT, 'stamp.json'), `${JSON.stringify(stamp)}\n`);
  return stamp;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stamp = await bundleCli();
  console.log(`dist/cli-bundle: ${stamp.chunks.length} chunks from ${stamp.inputs.length} files`);
}
