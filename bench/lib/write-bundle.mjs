// The bundle writer alone, as its own process: open the store, resolve each
// image there, writeBundle (the same call `ferry export` makes after its pull
// phase). No registry round trips, so the figure is the writer's.
// Usage: node write-bundle.mjs STORE OUT HOST:PORT/REPO:TAG...
// Prints one JSON line: when writeBundle was called (ms since the process
// started: node, the modules, the store), the CPU time spent by then, and how long it took, so the bench
// can say how much of the figure is start-up rather than the write, and which
// build of the modules ran (`loaded`).
// The writer and the store load as `ferry export` loads them: from the CLI's
// CommonJS bundle (dist/cli-bundle/, which bin/ferry.cjs runs while it is
// fresh), else from tsc's ES modules in dist/ (what the CLI falls back to).
// Loading dist/'s ES modules here cost ~0.15 s more CPU than the bundle's
// chunks, start-up that no `ferry export` pays.
// FERRY_WRITE_LOAD=esm forces dist/ (for pairs of the two).
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'cli-bundle');

/** The stamp of the CLI bundle when the chunks `ferry export` may load are fresh (bin/ferry.cjs freshBundle's check), else undefined. */
function freshStamp() {
  try {
    const made = statSync(join(BUNDLE, 'stamp.json')).mtimeMs;
    const stamp = JSON.parse(readFileSync(join(BUNDLE, 'stamp.json'), 'utf8'));
    for (const i of new Set([...stamp.main, ...stamp.workers, ...stamp.commands.export])) {
      const chunk = stamp.chunks[i];
      if (statSync(join(BUNDLE, chunk.file), { throwIfNoEntry: false })?.size !== chunk.size) return undefined;
      for (const [path, size] of chunk.inputs) {
        const input = statSync(join(ROOT, path), { throwIfNoEntry: false });
        if (!input || input.size !== size || input.mtimeMs > made) return undefined;
      }
    }
    return stamp;
  } catch {
    return undefined;
  }
}

/** writeBundle and openStore, from the bundle's chunks (functions keep their names there: not mangled) or from dist/. */
async function load() {
  const stamp = process.env.FERRY_WRITE_LOAD === 'esm' ? undefined : freshStamp();
  if (stamp) {
    const require = createRequire(join(BUNDLE, 'main.cjs'));
    const named = (module, name) => {
      const chunk = stamp.chunks.find((c) => c.inputs.some(([path]) => path === `dist/${module}.js`));
      return chunk && Object.values(require(join(BUNDLE, chunk.file))).find((f) => typeof f === 'function' && f.name === name);
    };
    const writeBundle = named('bundle/writer', 'writeBundle');
    const openStore = named('store/store', 'openStore');
    if (writeBundle && openStore) return { writeBundle, openStore, loaded: 'cli-bundle' };
  }
  const [{ writeBundle }, { openStore }] = await Promise.all([import('../../dist/bundle/index.js'), import('../../dist/store/index.js')]);
  return { writeBundle, openStore, loaded: 'dist' };
}

const [storeDir, out, ...refs] = process.argv.slice(2);
const { writeBundle, openStore, loaded } = await load();
const store = await openStore(storeDir, { readOnly: true });
try {
  const images = [];
  for (const ref of refs) {
    const colon = ref.lastIndexOf(':');
    const slash = ref.indexOf('/');
    // The store names a repository after its upstream host, ':' as '_' (core upstreamRepositoryName).
    const repo = `${ref.slice(0, slash).replace(':', '_')}/${ref.slice(slash + 1, colon)}`;
    const root = await store.repository(repo).resolve(ref.slice(colon + 1));
    images.push({ name: ref, root, referrers: [] });
  }
  const called = performance.now();
  const { user, system } = process.cpuUsage();
  await writeBundle({ images, fetch: (desc) => store.openBlob(desc.digest), localFile: (desc) => store.blobPath(desc.digest), out, toolVersion: 'bench' });
  process.stdout.write(`${JSON.stringify({ startMs: Math.round(called), startCpuMs: Math.round((user + system) / 1000), writeMs: Math.round(performance.now() - called), loaded })}\n`);
} finally {
  store.close();
}
