// tags/list and _catalog from `ferry serve` and docker-registry on the same
// repositories (a store from store-fill.mjs; the registry's layout is written
// beside it once), paged n=100, unpaged and n=10000, over one keep-alive
// connection: entries, requests and the median of 5 rounds.
// Usage: node bench/serve-listing.mjs STORE
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { fillRegistryLayout, fillShape } from './lib/scale-fill.mjs';
import { freePort, startRegistry, waitReady } from './lib/registry.mjs';
import { median } from './lib/stats.mjs';

const [store, flag] = process.argv.slice(2);
if (!store) throw new Error('usage: node bench/serve-listing.mjs STORE [--quick]');
const layout = `${store}.registry`;
if (!existsSync(layout)) await fillRegistryLayout(layout, fillShape(flag === '--quick'));
const registry = await startRegistry({ storageDir: layout });
const port = await freePort();
const ferry = spawn(process.execPath, [new URL('../bin/ferry.cjs', import.meta.url).pathname, 'serve', '--store', store, '--addr', `127.0.0.1:${port}`, '--read-only'], { stdio: 'ignore' });
const ferryUrl = `http://127.0.0.1:${port}`;
await waitReady(`${ferryUrl}/v2/`, ferry);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(url) {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode, body, link: res.headers.link }));
    }).on('error', reject);
  });
}

async function listAll(base, path, key) {
  const started = process.hrtime.bigint();
  let url = `${base}${path}`;
  let entries = 0;
  let requests = 0;
  while (url) {
    const { status, body, link } = await get(url);
    requests += 1;
    if (status !== 200) return { entries, requests, ms: NaN, status };
    entries += (JSON.parse(body)[key] ?? []).length;
    const next = link && /<([^>]+)>/.exec(link);
    url = next ? new URL(next[1], base).href : undefined;
  }
  return { entries, requests, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

try {
  for (const [path, key] of [['/v2/big/app/tags/list', 'tags'], ['/v2/_catalog', 'repositories']]) {
    for (const query of ['?n=100', '', '?n=10000']) {
      const f = [];
      const d = [];
      let fr;
      let dr;
      for (let round = 0; round <= 5; round++) {
        fr = await listAll(ferryUrl, path + query, key);
        dr = await listAll(registry.url, path + query, key);
        if (round > 0) {
          f.push(fr.ms);
          d.push(dr.ms);
        }
      }
      const peer = dr.status ? `HTTP ${dr.status}` : `${dr.entries} in ${dr.requests} requests, ${median(d).toFixed(0)} ms`;
      console.log(`${path}${query}: ferry ${fr.entries} in ${fr.requests} requests, ${median(f).toFixed(0)} ms; docker-registry ${peer}`);
    }
  }
} finally {
  agent.destroy();
  ferry.kill();
  await registry.stop();
}
