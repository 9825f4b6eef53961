// The import floor: the least a client can do to put the set into a registry.
// Reads skopeo's dir: copies and pushes every blob once (deduplicated by digest
// across images) as one streamed POST+PUT straight from the file, CONCURRENCY
// at a time (ferry's default), no verification, no retries, no index; then the
// manifests, children before their index, then the tag. What is left between
// ferry's import and this is ferry's own cost, not the registry's ingest.
// usage: node floor-push.mjs BASE_URL CONCURRENCY REPO=DIR...
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';

const [base, concurrencyArg, ...pairs] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const HEX = /^[0-9a-f]{64}$/;

function call(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve(res) : reject(new Error(`${method} ${url}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

async function pushBlob(repo, path, hex) {
  const started = await call('POST', `${base}/v2/${repo}/blobs/uploads/`, { 'content-length': '0' });
  const url = new URL(started.headers.location, base);
  url.searchParams.set('digest', `sha256:${hex}`);
  const size = statSync(path).size;
  await call('PUT', url.href, { 'content-type': 'application/octet-stream', 'content-length': String(size) }, createReadStream(path));
}

function mediaTypeOf(bytes) {
  const json = JSON.parse(bytes.toString('utf8'));
  return json.mediaType ?? (json.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json');
}

const putManifest = (repo, ref, bytes) =>
  call('PUT', `${base}/v2/${repo}/manifests/${ref}`, { 'content-type': mediaTypeOf(bytes), 'content-length': String(bytes.length) }, bytes);

// First sight of a digest uploads it; another repository that holds it gets a
// cross-repository mount (what ferry and skopeo do), once its upload is done.
const uploads = [];
const mounts = [];
const home = new Map();
const linked = new Set();
for (const pair of pairs) {
  const [ref, dir] = pair.split('=');
  const repo = ref.split(':')[0];
  for (const name of readdirSync(dir)) {
    if (!HEX.test(name) || linked.has(`${repo}@${name}`)) continue;
    linked.add(`${repo}@${name}`);
    const from = home.get(name);
    if (from === undefined) {
      home.set(name, repo);
      uploads.push(() => pushBlob(repo, join(dir, name), name));
    } else mounts.push(() => call('POST', `${base}/v2/${repo}/blobs/uploads/?mount=sha256:${name}&from=${from}`, { 'content-length': '0' }));
  }
}
async function pool(jobs) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
}
await pool(uploads);
await pool(mounts);
for (const pair of pairs) {
  const [ref, dir] = pair.split('=');
  const [repo, tag] = ref.split(':');
  for (const name of readdirSync(dir)) {
    const m = /^([0-9a-f]{64})\.manifest\.json$/.exec(name);
    if (m) await putManifest(repo, `sha256:${m[1]}`, readFileSync(join(dir, name)));
  }
  await putManifest(repo, tag, readFileSync(join(dir, 'manifest.json')));
}
agent.destroy();
