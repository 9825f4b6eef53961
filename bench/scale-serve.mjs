// Listing at scale: `tags/list` of a 10,000-tag repository and `_catalog` of
// 2,000 repositories, from `ferry serve` on the filled store (lib/scale-fill.mjs)
// and from docker-registry on the same repositories and tags in its own layout.
// One keep-alive client follows the Link headers; each listing is read ROUNDS
// times per server, alternating, after one warm-up.
// Like for like: docker-registry 2.8 ignores `n` on tags/list and answers every
// tag at once, so tags/list is compared unpaged (one response each), and ferry's
// pages of 100 are shown beside it with no goal; _catalog is paged by both.
import { Agent, request } from 'node:http';
import { fillRegistryLayout, fillShape, fillStore } from './lib/scale-fill.mjs';
import { log, workPath } from './lib/context.mjs';
import { startRegistry } from './lib/registry.mjs';
import { median, paired } from './lib/stats.mjs';
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
async function listAll(agent, base, path, key, page) {
  const started = process.hrtime.bigint();
  let url = page === undefined ? `${base}${path}` : `${base}${path}?n=${page}`;
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
    /** ROUNDS alternating reads of one listing from each server: medians and the per-round ratio (registry ms / ferry ms). */
    const compare = async (what, path, key, expect, ferryPage, registryPage) => {
      const f = [];
      const d = [];
      let pages;
      for (let round = 0; round <= ROUNDS; round++) {
        const fr = await listAll(agent, ferry.url, path, key, ferryPage);
        const dr = await listAll(agent, registry.url, path, key, registryPage);
        for (const r of [fr, dr]) if (r.entries !== expect) throw new Error(`${what}: listed ${r.entries} entries, expected ${expect}`);
        pages = [fr.pages, dr.pages];
        if (round === 0) continue; // warm-up
        f.push(fr.ms);
        d.push(dr.ms);
      }
      const ms = (x) => `${median(x).toFixed(median(x) < 10 ? 1 : 0)} ms`;
      log(`  ${what}: ferry ${ms(f)} in ${pages[0]} requests, docker-registry ${ms(d)} in ${pages[1]}`);
      return { ferry: `${ms(f)} (${pages[0]} req.)`, peer: `${ms(d)} docker-registry (${pages[1]} req.)`, ...paired(d, f) };
    };
    const tags = '/v2/big/app/tags/list';
    const tagsWhat = `tags/list of a ${shape.big}-tag repository`;
    rows.push(row({ measure: `serve: ${tagsWhat}, one response (no n)`, ...(await compare(tagsWhat, tags, 'tags', shape.big)), ratioOf: 'ferry/registry throughput', goal: '≥ 1.0', pass: undefined }));
    rows.push(row({ measure: `serve: ${tagsWhat}, ferry in pages of ${PAGE} (docker-registry ignores n: one response)`, ...(await compare(`${tagsWhat}, ferry paged`, tags, 'tags', shape.big, PAGE)), ratioOf: 'ferry/registry throughput', goal: '—' }));
    const catalogWhat = `_catalog of ${shape.repos} repositories`;
    rows.push(row({ measure: `serve: ${catalogWhat}, pages of ${PAGE}`, ...(await compare(`${catalogWhat}, paged`, '/v2/_catalog', 'repositories', shape.repos, PAGE, PAGE)), ratioOf: 'ferry/registry throughput', goal: '≥ 1.0' }));
    for (const r of rows) if (r.goal !== '—') r.pass = r.ratio >= 1.0;
    return rows;
  } finally {
    agent.destroy();
    await ferry.stop();
    await registry.stop();
  }
}

