// A minimal distribution-API pusher for seeding the source registry: blobs go
// up as one streamed PATCH (no length needed, digest known only at the end)
// and a PUT ?digest=; manifests with a PUT. Neutral on purpose: neither ferry
// nor skopeo puts the content where both then read it.
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { pipeline } from 'node:stream/promises';

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

function call(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch(reject);
  });
}

function expect(res, ok, what) {
  if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return res;
}

export async function blobExists(base, repo, digest) {
  const res = await call('HEAD', `${base}/v2/${repo}/blobs/${digest}`);
  return res.status === 200;
}

async function startUpload(base, repo) {
  const res = expect(await call('POST', `${base}/v2/${repo}/blobs/uploads/`, { headers: { 'content-length': '0' } }), [202], `POST ${repo} upload`);
  return new URL(res.headers.location, base);
}

async function finishUpload(location, digest, body) {
  location.searchParams.set('digest', digest);
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(body ? body.length : 0) };
  expect(await call('PUT', location.href, { headers, body: body ?? Buffer.alloc(0) }), [201], `PUT ${digest}`);
}

/** Streams a generated blob up; `finish()` gives its digest only after the stream ends. */
export async function pushStream(base, repo, stream, finish) {
  let location = await startUpload(base, repo);
  const res = expect(await call('PATCH', location.href, { headers: { 'content-type': 'application/octet-stream' }, body: stream }), [202], `PATCH ${repo}`);
  location = new URL(res.headers.location, base);
  const result = finish();
  await finishUpload(location, result.digest);
  return result;
}

export async function pushBytes(base, repo, bytes) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (await blobExists(base, repo, digest)) return { digest, size: bytes.length };
  await finishUpload(await startUpload(base, repo), digest, bytes);
  return { digest, size: bytes.length };
}

export async function putManifest(base, repo, reference, mediaType, bytes) {
  expect(
    await call('PUT', `${base}/v2/${repo}/manifests/${reference}`, { headers: { 'content-type': mediaType, 'content-length': String(bytes.length) }, body: bytes }),
    [201],
    `PUT manifest ${repo}:${reference}`,
  );
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, mediaType };
}

export function closeAgent() {
  agent.destroy();
}
