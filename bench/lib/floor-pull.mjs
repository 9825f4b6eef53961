// The export floor: the least a client can do to carry a known set of blobs
// and manifests out of a registry into one file. It is handed the plan (every
// URL and size, so no resolving, no tags/list, no referrers), GETs each once,
// CONCURRENCY at a time (ferry's default), and writes each body straight into
// its place in OUT, one write per byte: no digest check, no store, no tar
// headers, no index; then one fdatasync of OUT, as ferry's bundle and cp + sync
// end. What is left between ferry's export and this is ferry's own cost, not
// the registry's (or the layer host's) serving on the same cores.
// usage: node floor-pull.mjs OUT CONCURRENCY PLAN.json   (PLAN: [{ url, size, accept? }])
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:http';

const [out, concurrencyArg, planPath] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const fd = openSync(out, 'w');

function get({ url, size, accept }, at) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: accept ? { accept } : {} }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
      }
      let pos = at;
      res.on('data', (chunk) => {
        for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done, pos + done);
        pos += chunk.length;
      });
      res.on('end', () => (pos - at === size ? resolve() : reject(new Error(`GET ${url}: ${pos - at} bytes, expected ${size}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const offsets = [];
let total = 0;
for (const item of plan) {
  offsets.push(total);
  total += item.size;
}
// Largest first, as a scheduler that knows the sizes would start them.
const order = plan.map((item, i) => i).sort((a, b) => plan[b].size - plan[a].size);
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < order.length) {
      const i = order[next++];
      await get(plan[i], offsets[i]);
    }
  }),
);
fdatasyncSync(fd);
closeSync(fd);
agent.destroy();
process.stdout.write(`${JSON.stringify({ items: plan.length, bytes: total })}\n`);
