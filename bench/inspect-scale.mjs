// Writes a synthetic N-image bundle (lib/synthetic-bundle.mjs) for timing and
// profiling `ferry inspect` at scale without a registry.
// Usage: node bench/inspect-scale.mjs N OUT.tar   then: ferry inspect OUT.tar
import { writeBundle } from '../dist/bundle/index.js';
import { syntheticImages } from './lib/synthetic-bundle.mjs';

const [n, out] = process.argv.slice(2);
if (!n || !out) throw new Error('usage: node bench/inspect-scale.mjs N OUT.tar');
const { images, fetch } = syntheticImages(Number(n));
const r = await writeBundle({ images, fetch, out, toolVersion: 'bench' });
console.log(`${out}: ${images.length} images, ${r.bytes} bytes`);
