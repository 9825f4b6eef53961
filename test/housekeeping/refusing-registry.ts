import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startFixture, type FixtureServer } from '../client/fixture-server.js';

// A stand-in for ACR and Harbor refusals no real peer here can give: basic auth,
// a small working registry (uploads accepted, one image served at :1.0), and per
// repository one refusal with the body that registry really sends (shapes from
// the public threads cited in src/registry/client/refusals.ts).

export const CREDS = { username: 'site', password: 'site-secret' };
const BASIC = `Basic ${Buffer.from(`${CREDS.username}:${CREDS.password}`).toString('base64')}`;

const CONFIG = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(CONFIG), size: CONFIG.length }, layers: [] }),
);
export const MANIFEST_DIGEST = sha(MANIFEST);

type Verb = 'write' | 'tag' | 'delete' | 'list';
interface Refusal {
  readonly on: Verb;
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** Refuse only the first N times (a 429 that passes). */
  readonly times?: number;
}

const DISALLOWED = { errors: [{ code: 'REGISTRY_DISALLOWED_OPERATION', message: 'The operation is disallowed on this registry, repository or image. View troubleshooting steps at https://aka.ms/acr/faq/#why-does-my-pull-or-push-request-fail-with-disallowed-operation', detail: {} }] };

/** Repository → the refusal it answers. */
export const REFUSALS: Readonly<Record<string, Refusal>> = {
  'acr/locked': { on: 'write', status: 405, body: DISALLOWED },
  'acr/nodelete': { on: 'delete', status: 405, body: DISALLOWED },
  'acr/reader': { on: 'delete', status: 403, body: { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] } },
  'harbor/quota': { on: 'write', status: 403, body: { errors: [{ code: 'DENIED', message: 'adding 29.0 MiB of storage resource, which when updated to current usage of 152.4 MiB will exceed the configured upper limit of 10.0 MiB.' }] } },
  'harbor/immutable': { on: 'tag', status: 412, body: { errors: [{ code: 'DENIED', message: 'The tag:harbor/immutable:1.0 is immutable, cannot be overwrite.' }] } },
  'harbor/readonly': { on: 'write', status: 403, body: { errors: [{ code: 'DENIED', message: 'The system is in read only mode. Any modification is prohibited.' }] } },
  'harbor/guest': { on: 'write', status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized to access repository: harbor/guest, action: push: unauthorized to access repository: harbor/guest, action: push' }] } },
  'acr/throttled': { on: 'list', status: 429, body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'too many requests' }] }, headers: { 'retry-after': '2' }, times: 1 },
  'acr/busy': { on: 'list', status: 429, body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'too many requests' }] }, headers: { 'retry-after': '0' } },
};

function verbOf(method: string, rest: string): Verb | undefined {
  if (rest === 'tags/list') return 'list';
  if (method === 'DELETE') return 'delete';
  if (method === 'POST' || method === 'PATCH' || (method === 'PUT' && rest.startsWith('blobs/'))) return 'write';
  if (method === 'PUT' && rest.startsWith('manifests/')) return 'tag';
  return undefined;
}

export interface RefusingRegistry extends FixtureServer {
  /** Times (ms since epoch) of each tags/list request per repository. */
  readonly listedAt: Map<string, number[]>;
}

export async function startRefusingRegistry(): Promise<RefusingRegistry> {
  const listedAt = new Map<string, number[]>();
  const refused = new Map<string, number>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== BASIC) return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': 'Basic realm="site"' });
    if (url.pathname === '/v2/') return sendJson(res, 200, {});
    const m = /^\/v2\/([a-z]+\/[a-z]+)\/(.+)$/.exec(url.pathname);
    const repo = m?.[1] ?? '';
    const rest = m?.[2] ?? '';
    const method = req.method ?? 'GET';
    if (rest === 'tags/list') listedAt.set(repo, [...(listedAt.get(repo) ?? []), Date.now()]);
    const refusal = REFUSALS[repo];
    const verb = verbOf(method, rest);
    if (refusal && verb === refusal.on && (refusal.times === undefined || (refused.get(repo) ?? 0) < refusal.times)) {
      refused.set(repo, (refused.get(repo) ?? 0) + 1);
      return sendJson(res, refusal.status, refusal.body, refusal.headers ?? {});
    }
    if (rest === 'tags/list') return sendJson(res, 200, { name: repo, tags: ['1.0'] });
    if (method === 'POST' && rest === 'blobs/uploads/') {
      res.writeHead(202, { location: `/v2/${repo}/blobs/uploads/u1`, 'content-length': '0' });
      return void res.end();
    }
    if (method === 'PUT' && rest.startsWith('blobs/uploads/')) {
      res.writeHead(201, { 'docker-content-digest': url.searchParams.get('digest') ?? '', 'content-length': '0' });
      return void res.end();
    }
    if (method === 'PUT' && rest.startsWith('manifests/')) {
      res.writeHead(201, { 'content-length': '0' });
      return void res.end();
    }
    if (method === 'DELETE') {
      res.writeHead(202, { 'content-length': '0' });
      return void res.end();
    }
    if ((method === 'GET' || method === 'HEAD') && (rest === 'manifests/1.0' || rest === `manifests/${MANIFEST_DIGEST}`)) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': MANIFEST_DIGEST, 'content-length': String(MANIFEST.length) });
      return void res.end(method === 'HEAD' ? undefined : MANIFEST);
    }
    return sendJson(res, 404, { errors: [{ code: rest.startsWith('blobs/') ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN', message: 'unknown' }] });
  };
  const fixture = await startFixture(handler);
  return Object.assign(fixture, { listedAt });
}
