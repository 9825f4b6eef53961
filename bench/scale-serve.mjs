// Listing at scale: a paged `tags/list` of a 10,000-tag repository and a paged
// `_catalog` of 2,000 repositories, from `ferry serve` on the filled store
// (lib/scale-fill.mjs) and from docker-registry on the same repositories and
// tags in its own layout. One keep-alive client follows the Link headers;
// each listing is read ROUNDS times per server, alternating, after one warm-up.
import { Agent, request } from 'node:http';
import { fillRegistryLayout, fillShape, fillStore } from './lib/scale-fill.mjs';
import { log, workPath } from './lib/context.mjs';
import { startRegistry } from './lib/registry.mjs';
import { median } from './lib/stats.mjs';
import { row } from './lib/table.mjs';
import { startFerryServe } from './serve.mjs';

const ROUNDS = 5;
const PAGE = 100;

function get(agent, url) {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
        else resolve({ body: JSON.parse(body), link: res.headers.link });
      });
    }).on('error', reject).end();
  });
}

/** Every entry of a paged listing; returns { entries, pages, ms }. */
async function listAll(agent, base, path, key) {
  const started = process.hrtime.bigint();
  let url = `${base}${path}?n=${PAGE}`;
  let entries = 0;
  let pages = 0;
  while (url) {
    const { body, link } = await get(agent, url);
    entries += (body[key] ?? []).length;
    pages += 1;
    const next = link && /<([^>]+)>;\s*rel="?next"?/.exec(link);
    url = next ? new URL(next[1], base).href : undefined;
  }
  return { entries, pages, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

export async function measureServe(ctx) {
  const shape = fillShape(ctx.quick);
  const store = workPath(ctx, 'serve-big-store');
  await fillStore(store, shape);
  const storage = workPath(ctx, 'serve-big-registry');
  await fillRegistryLayout(storage, shape);
  const ferry = await startFerryServe(ctx, store);
  const registry = await startRegistry({ storageDir: storage, workDir: ctx.work });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const rows = [];
    for (const [what, path, key, expect] of [
      [`tags/list of a ${shape.big}-tag repository`, '/v2/big/app/tags/list', 'tags', shape.big],
      [`_catalog of ${shape.repos} repositories`, '/v2/_catalog', 'repositories', shape.repos],
    ]) {
      const f = [];
      const d = [];
      for (let round = 0; round <= ROUNDS; round++) {
        const fr = await listAll(agent, ferry.url, path, key);
        const dr = await listAll(agent, registry.url, path, key);
        for (const r of [fr, dr]) if (r.entries !== expect) throw new Error(`${what}: listed ${r.entries} entries, expected ${expect}`);
        if (round === 0) continue; // warm-up
        f.push(fr.ms);
        d.push(dr.ms);
      }
      const ratio = median(d.map((x, i) => x / f[i]));
      log(`  ${what}, pages of ${PAGE}: ferry ${median(f).toFixed(0)} ms, docker-registry ${median(d).toFixed(0)} ms`);
      rows.push(row({
        measure: `serve: ${what}, pages of ${PAGE}`,
        ferry: `${median(f).toFixed(0)} ms`,
        peer: `${median(d).toFixed(0)} ms docker-registry`,
        ratio,
        ratioOf: 'ferry/registry throughput',
        goal: '≥ 1.0',
        pass: ratio >= 1.0,
      }));
    }
    return rows;
  } finally {
    agent.destroy();
    await ferry.stop();
    await registry.stop();
  }
}

