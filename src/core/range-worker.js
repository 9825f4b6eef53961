// @ts-check
// The body of a range-pool worker thread: runs each batch of jobs it is sent
// (range-job.js) and answers with a hash, or an error, per job, plus progress
// messages on the way.
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { READ_BYTES, runRangeBatch } from './range-job.js';

const port = parentPort;
if (!port) throw new Error('range-worker.js runs on a worker thread');
const buf = Buffer.allocUnsafe(READ_BYTES);
const out = workerData?.output ? fs.openSync(workerData.output, 'r+') : -1;
/** @param {number} bytes */
const report = (bytes) => port.postMessage({ bytes });
port.on('message', (jobs) => {
  port.postMessage({ bytes: 0, results: runRangeBatch(jobs, buf, out, fs, report) });
});
