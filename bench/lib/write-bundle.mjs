// The bundle writer alone, as its own process: open the store, resolve each
// image there, writeBundle (the same call `ferry export` makes after its pull
// phase). No registry round trips, so the figure is the writer's.
// Usage: node write-bundle.mjs STORE OUT HOST:PORT/REPO:TAG...
// Prints one JSON line: when writeBundle was called (ms since the process
// started: node, the modules, the store) and how long it took, so the bench
// can say how much of the figure is start-up rather than the write.
import { performance } from 'node:perf_hooks';
import { writeBundle } from '../../dist/bundle/index.js';
import { openStore } from '../../dist/store/index.js';

const [storeDir, out, ...refs] = process.argv.slice(2);
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
  await writeBundle({ images, fetch: (desc) => store.openBlob(desc.digest), localFile: (desc) => store.blobPath(desc.digest), out, toolVersion: 'bench' });
  process.stdout.write(`${JSON.stringify({ startMs: Math.round(called), writeMs: Math.round(performance.now() - called) })}\n`);
} finally {
  store.close();
}
