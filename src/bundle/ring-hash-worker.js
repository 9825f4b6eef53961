// @ts-check
// The body of offthread-hash.ts's worker thread: sha256 of bytes its parent
// lays in a shared ring. A message [0, ids, start, length] hashes that region
// into each hash of `ids` (one id, or several: the whole tar and its volume) and
// frees it ([length]); [1, id] ends hash `id` and answers [0, id, hex].
// Messages are FIFO, so each hash sees its bytes in order.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('ring-hash-worker.js runs on a worker thread');
const ring = new Uint8Array(workerData);
/** @type {Map<number, import('node:crypto').Hash>} */
const hashes = new Map();
/** @param {number} id */
const hashOf = (id) => {
  let hash = hashes.get(id);
  if (!hash) hashes.set(id, (hash = createHash('sha256')));
  return hash;
};
port.on('message', (/** @type {[number, number | number[], number?, number?]} */ m) => {
  if (m[0] === 1) {
    const id = /** @type {number} */ (m[1]);
    const hash = hashOf(id);
    hashes.delete(id);
    port.postMessage([0, id, hash.digest('hex')]);
    return;
  }
  const start = /** @type {number} */ (m[2]);
  const length = /** @type {number} */ (m[3]);
  const region = ring.subarray(start, start + length);
  for (const id of typeof m[1] === 'number' ? [m[1]] : m[1]) hashOf(id).update(region);
  port.postMessage([length]);
});
