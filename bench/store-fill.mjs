// Fills a ferry store the shape of the scale bench's (100,000 blobs, 11,999
// tags; `--quick`: a tenth) for measuring one store command by hand, e.g.
//   node bench/store-fill.mjs /tmp/big && /usr/bin/time -v bin/ferry.cjs store usage --store /tmp/big
import { fillShape, fillStore } from './lib/scale-fill.mjs';

const [dir, flag] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/store-fill.mjs DIR [--quick]');
const started = Date.now();
const shape = await fillStore(dir, fillShape(flag === '--quick'));
console.log(`${dir}: ${shape.blobs} blobs, ${shape.tags} tags in ${shape.repos} repositories (${((Date.now() - started) / 1000).toFixed(1)} s)`);
