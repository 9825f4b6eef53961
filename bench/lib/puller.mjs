// The client for the serve measure, run as its own process: N pullers, each
// GETs every manifest and every blob of the list once, bytes discarded, over
// keep-alive connections (node:http). Prints { bytes, ms, requests } as JSON.
// Usage: node puller.mjs BASE_URL PULLERS LIST.json
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const [base, pullersArg, listFile] = process.argv.slice(2);
const pullers = Number(pullersArg);
const list = JSON.parse(readFileSync(listFile, 'utf8')); // [{ path, accept? }]
const agent = new Agent({ keepAlive: true, maxSockets: pullers });

function get(path, accept) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent, headers: accept ? { accept } : {} }, (res) => {
      let n = 0;
      res.on('data', (c) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const started = performance.now();
let bytes = 0;
let requests = 0;
await Promise.all(
  Array.from({ length: pullers }, async (_, p) => {
    // Each puller starts at a different place, as independent nodes would.
    for (let i = 0; i < list.length; i++) {
      const item = list[(i + Math.floor((p * list.length) / pullers)) % list.length];
      const n = await get(item.path, item.accept); // not `bytes += await …`: that reads bytes before the await
      bytes += n;
      requests += 1;
    }
  }),
);
const ms = performance.now() - started;
agent.destroy();
process.stdout.write(`${JSON.stringify({ bytes, ms, requests })}\n`);
