// @ts-check
// The body of offthread-hash.ts's worker thread: sha256 of bytes its parent
// lays in a shared ring. A message [0, id, start, length] hashes that region
// into hash `id` and frees it ([length]); [1, id] ends hash `id` and answers
// [0, id, hex]. Messages are FIFO, so each hash sees its bytes in order.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('ring-hash-worker.js runs on a worker thread');
const ring = new Uint8Array(workerData);
/** @type {Map<number, import('node:crypto').Hash>} */
const hashes = new Map();
port.on('message', (/** @type {number[]} */ m) => {
  const id = /** @type {number} */ (m[1]);
  if (m[0] === 1) {
    const hash = hashes.get(id) ?? createHash('sha256');
    hashes.delete(id);
    port.postMessage([0, id, hash.digest('hex')]);
    return;
  }
  let hash = hashes.get(id);
  if (!hash) hashes.set(id, (hash = createHash('sha256')));
  const start = /** @type {number} */ (m[2]);
  const length = /** @type {number} */ (m[3]);
  hash.update(ring.subarray(start, start + length));
  port.postMessage([length]);
});
