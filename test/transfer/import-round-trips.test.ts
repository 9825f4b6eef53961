import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { startFixture, type FixtureServer } from '../client/fixture-server.js';
import { expectOk, expectRefusal, sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 16 (import against the floor): what an import asks an empty
// docker-registry, counted from its --trace. The registry has none of the
// target repositories (its catalog says so), so no blob is asked about with a
// HEAD, nor any manifest (a multi-platform index root included: its repository
// is not there, so neither is it); each image's root goes up once, by its tag,
// after everything under it (no HEAD, no PUT by digest, no second PUT for the tag). A second import into
// the now full registry finds every image already under its tag: one HEAD per
// tag, no blob asked about, nothing put (a rerun, as skopeo sync skips an image
// already present); a tag moved on the target since is put back, nothing under
// it asked about (its root is still there); a referrer deleted there since is
// asked about by its digest and put back; an image new to a repository the
// registry has lands in full, its blobs asked about. The one PUT by tag is checked as the PUT by digest was: a registry
// that says it stored other bytes under the tag (Docker-Content-Digest) fails
// the image. A registry that wants bearer tokens is asked for its catalog too,
// under a token of its own: no HEAD either, and no repository's token request
// carries `registry:catalog:*`. One whose token service will not grant the
// catalog is asked per blob instead, silently, and everything lands.

/** distribution 2.8 answers 404 for an OCI manifest to a client that does not say it accepts one. */
const OCI_MANIFEST = { accept: 'application/vnd.oci.image.manifest.v1+json' };

interface TraceRecord {
  method: string;
  url: string;
  status?: number;
}

interface ImportJson {
  images: Array<{ source: string; target: string; digest: string; tags: string[]; unchanged?: boolean }>;
  blobs: { missing: number; pushed: number; mounted: number; bytes: number };
  failed: unknown[];
}

describe.skipIf(!rigContext().available)('the requests of an import into an empty registry', () => {
  let work: WorkDir;
  let target: Registry;
  const keys = ['appA', 'appB', 'multi'] as const;

  beforeAll(async () => {
    const rig = seededRig();
    work = await workDir('ferry-import-round-trips-');
    target = await startRegistry({});
    expectOk(await ferry(['export', ...sourceRefs(rig, keys), '-o', work.path('two.tar'), '--plain-http', '--store', work.path('store')]));
  });

  const started: Array<{ stop(): Promise<void> }> = [];
  afterAll(async () => {
    for (const s of started) await s.stop();
    await target?.stop();
    await work?.cleanup();
  });

  async function importTraced(name: string, namespace = 'mirror'): Promise<{ report: ImportJson; trace: TraceRecord[]; stderr: string }> {
    const traceFile = work.path(`${name}.jsonl`);
    const run = expectOk(await ferry(['import', work.path('two.tar'), '--to', `${target.host}/${namespace}`, '--plain-http', '--trace', traceFile, '--json']));
    const lines = (await readFile(traceFile, 'utf8')).trim().split('\n');
    return { report: run.json as ImportJson, trace: lines.map((l) => JSON.parse(l) as TraceRecord), stderr: run.stderr };
  }

  const pathOf = (r: TraceRecord): string => new URL(r.url).pathname;

  /** Every image of the bundle is under its tag in `registry`'s mirror/ namespace, at its digest. */
  async function expectLanded(registry: Registry): Promise<void> {
    const rig = seededRig();
    const view = new TargetView(registry);
    try {
      for (const key of keys) {
        const image = rig.images.images[key];
        expect((await view.manifest(`mirror/${image.repository}`, image.tag ?? ''))?.digest).toBe(image.digest);
      }
    } finally {
      await view.close();
    }
  }

  it('asks about no blob nor manifest, and puts each root once, by its tag', async () => {
    const rig = seededRig();
    const { report, trace } = await importTraced('first');
    expect(report.failed).toEqual([]);
    expect(report.images).toHaveLength(keys.length);

    // By digest: appA's referrer still reads its tag-schema index (sha256-<hex>) by tag.
    const heads = trace.filter((r) => r.method === 'HEAD' && /\/(blobs|manifests)\/sha256:/.test(pathOf(r)));
    expect(heads.map(pathOf), 'HEADs of blobs or manifests in repositories the registry does not have').toEqual([]);

    const view = new TargetView(target);
    try {
      for (const key of keys) {
        const image = rig.images.images[key];
        const repo = `mirror/${image.repository}`;
        const root = trace.filter((r) => pathOf(r) === `/v2/${repo}/manifests/${image.tag ?? ''}` || pathOf(r) === `/v2/${repo}/manifests/${image.digest}`);
        expect(root.map((r) => `${r.method} ${pathOf(r)}`), `requests for ${repo}'s root`).toEqual([`PUT /v2/${repo}/manifests/${image.tag ?? ''}`]);
        expect((await view.manifest(repo, image.tag ?? ''))?.digest).toBe(image.digest);
        for (const blob of image.blobs) expect(await view.blobStatus(repo, blob.digest), `${blob.digest} in ${repo}`).toBe(200);
      }
    } finally {
      await view.close();
    }
  });

  it('into the registry that now holds them: one request per tag, nothing moved, no tag touched', async () => {
    const rig = seededRig();
    const { report, trace, stderr } = await importTraced('second');
    expect(report.failed).toEqual([]);
    // 16 HEADs at once on the run's one AbortSignal: no MaxListenersExceededWarning (Node's default is 10).
    expect(stderr).toBe('');
    expect(report.blobs).toMatchObject({ missing: 0, bytes: 0, pushed: 0 });
    expect(report.images.map((i) => i.unchanged)).toEqual(keys.map(() => true));
    expect(report.images.map((i) => i.digest)).toEqual(keys.map((k) => rig.images.images[k].digest));
    // Every root is already under its tag, and appA's SBOM and signature are there too (a referrer is asked
    // about by its digest, a cosign one by its tag: one made since would be new): no blob is asked about,
    // nothing is uploaded or put.
    const blobRequests = trace.filter((r) => pathOf(r).includes('/blobs/'));
    expect(blobRequests.map((r) => `${r.method} ${pathOf(r)}`), 'blobs asked about').toEqual([]);
    expect(trace.filter((r) => r.method === 'PUT' || r.method === 'POST' || r.method === 'PATCH').map((r) => `${r.method} ${pathOf(r)}`), 'writes').toEqual([]);
    for (const key of keys) {
      const image = rig.images.images[key];
      const repo = `mirror/${image.repository}`;
      const root = trace.filter((r) => pathOf(r) === `/v2/${repo}/manifests/${image.tag ?? ''}` || pathOf(r) === `/v2/${repo}/manifests/${image.digest}`);
      expect(root.map((r) => `${r.method} ${pathOf(r)}`), `requests for ${repo}'s root`).toEqual([`HEAD /v2/${repo}/manifests/${image.tag ?? ''}`]);
    }
    // A referrer's tag (cosign .sig) goes up from the bundle's bytes: no manifest is read back to tag it.
    const reads = trace.filter((r) => r.method === 'GET' && /\/manifests\/sha256:/.test(pathOf(r)));
    expect(reads.map(pathOf), 'manifests read back from the target').toEqual([]);
    // appA's SBOM is still listed in its subject's `sha256-<hex>` index (a run cut short may have put the
    // referrer and not the index): that index is read, and no repository's tags are listed for it.
    expect(trace.filter((r) => pathOf(r).endsWith('/tags/list')).map(pathOf), 'tag listings').toEqual([]);
    expect(trace.filter((r) => /\/manifests\/sha256-[0-9a-f]{64}$/.test(pathOf(r))).map((r) => r.method)).toEqual(['GET']);
    await expectLanded(target);
  });

  it('a tag moved on the target since: its root is still there, so only the tag is put back; the others stay as they are', async () => {
    const rig = seededRig();
    const appB = rig.images.images.appB;
    const repo = `mirror/${appB.repository}`;
    // Someone pushed another image under appB's tag: an empty config, no layers.
    const view = new TargetView(target);
    try {
      const config = Buffer.from('{}');
      const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
      await view.http.pushBlob(repo, configDigest, config);
      const other = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [] }));
      await view.http.pushManifest(repo, appB.tag ?? '', 'application/vnd.oci.image.manifest.v1+json', other);
      expect((await view.manifest(repo, appB.tag ?? ''))?.digest).not.toBe(appB.digest);
    } finally {
      await view.close();
    }
    const { report, trace } = await importTraced('third');
    expect(report.failed).toEqual([]);
    expect(Object.fromEntries(report.images.map((i) => [i.source, i.unchanged ?? false]))).toEqual(
      Object.fromEntries(keys.map((k, i) => [sourceRefs(rig, keys)[i], k !== 'appB'])),
    );
    // appB's root is still in its repository (the tag moved, the manifest stayed), and the registry took it only
    // with everything under it: none of its blobs is asked about, its root is asked about once by digest, and
    // its tag is put back. Elsewhere, as before, no blob is asked about.
    const blobHeads = trace.filter((r) => r.method === 'HEAD' && pathOf(r).includes('/blobs/')).map(pathOf);
    expect(blobHeads).toEqual([]);
    expect(trace.filter((r) => pathOf(r).includes('/blobs/') && r.method !== 'HEAD').map(pathOf)).toEqual([]);
    expect(trace.filter((r) => r.method === 'PUT' && pathOf(r) === `/v2/${repo}/manifests/${appB.tag ?? ''}`)).toHaveLength(1);
    expect(trace.filter((r) => r.method === 'HEAD' && pathOf(r) === `/v2/${repo}/manifests/${appB.digest}`)).toHaveLength(1);
    expect(report.blobs).toMatchObject({ missing: 0, pushed: 0, bytes: 0 });
    await expectLanded(target);
  });

  it('a referrer deleted on the target since: asked about by its digest, found missing, put back (its image left as it is)', async () => {
    const rig = seededRig();
    const appA = rig.images.images.appA;
    const repo = `mirror/${appA.repository}`;
    // The rerun before asked about appA's referrers by digest (the cosign one by its tag): take one of them.
    const { trace: before } = await importTraced('referrers-there');
    const referrer = before.map(pathOf).find((p) => p.startsWith(`/v2/${repo}/manifests/sha256:`) && !p.endsWith(appA.digest))?.split('/').pop();
    expect(referrer, 'an OCI referrer of appA asked about by digest').toBeDefined();
    const view = new TargetView(target);
    try {
      expect((await view.http.send('DELETE', `/v2/${repo}/manifests/${referrer}`)).status).toBe(202);
      expect((await view.http.send('HEAD', `/v2/${repo}/manifests/${referrer}`, OCI_MANIFEST)).status).toBe(404);
    } finally {
      await view.close();
    }
    const { report, trace } = await importTraced('referrer-gone');
    expect(report.failed).toEqual([]);
    expect(report.images.map((i) => i.unchanged)).toEqual(keys.map(() => true));
    expect(trace.filter((r) => pathOf(r) === `/v2/${repo}/manifests/${referrer}`).map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 404', 'PUT 201']);
    // Only that referrer's own blobs are asked about, and its image's root is not touched.
    expect(trace.filter((r) => r.method === 'PUT' && pathOf(r) !== `/v2/${repo}/manifests/${referrer}` && !/\/manifests\/sha256-[0-9a-f]{64}$/.test(pathOf(r))).map(pathOf)).toEqual([]);
    const check = new TargetView(target);
    try {
      expect((await check.http.send('HEAD', `/v2/${repo}/manifests/${referrer}`, OCI_MANIFEST)).status).toBe(200);
    } finally {
      await check.close();
    }
  });

  it('an image new to a repository the registry has: its tag and root not there, it lands in full', async () => {
    const rig = seededRig();
    const appB = rig.images.images.appB;
    const repo = `other/${appB.repository}`;
    // The repository holds something else only: listed in the catalog, but neither appB's tag nor its root.
    const view = new TargetView(target);
    try {
      const config = Buffer.from('{"other":true}');
      const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
      await view.http.pushBlob(repo, configDigest, config);
      const other = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [] }));
      await view.http.pushManifest(repo, 'unrelated', 'application/vnd.oci.image.manifest.v1+json', other);
    } finally {
      await view.close();
    }
    const { report, trace } = await importTraced('other', 'other');
    expect(report.failed).toEqual([]);
    expect(report.images.every((i) => !i.unchanged)).toBe(true);
    // Its root asked about once (not there), then each of its blobs (the repository is listed), all pushed or mounted.
    expect(trace.filter((r) => r.method === 'HEAD' && pathOf(r) === `/v2/${repo}/manifests/${appB.digest}`).map((r) => r.status)).toEqual([404]);
    const asked = new Set(trace.filter((r) => r.method === 'HEAD' && pathOf(r).startsWith(`/v2/${repo}/blobs/`)).map(pathOf));
    for (const blob of appB.blobs) expect(asked.has(`/v2/${repo}/blobs/${blob.digest}`), `${blob.digest} asked about`).toBe(true);
    const check = new TargetView(target);
    try {
      expect((await check.manifest(repo, appB.tag ?? ''))?.digest).toBe(appB.digest);
      for (const blob of appB.blobs) expect(await check.blobStatus(repo, blob.digest), `${blob.digest} in ${repo}`).toBe(200);
    } finally {
      await check.close();
    }
  });

  it('a registry behind bearer tokens: its catalog asked, no blob asked about, every image lands', async () => {
    const tokened = await startRegistry({ auth: 'token' });
    started.push(tokened);
    const traceFile = work.path('token.jsonl');
    const run = expectOk(await ferry(['import', work.path('two.tar'), '--to', `${tokened.host}/mirror`, '--plain-http', '--creds', `${tokened.tokenServer?.username ?? ''}:${tokened.tokenServer?.password ?? ''}`, '--trace', traceFile, '--json']));
    expect((run.json as ImportJson).images).toHaveLength(keys.length);
    const trace = (await readFile(traceFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TraceRecord);
    expect(trace.filter((r) => pathOf(r) === '/v2/_catalog').map((r) => r.status)).toEqual([200]);
    const blobHeads = trace.filter((r) => r.method === 'HEAD' && pathOf(r).includes('/blobs/'));
    expect(blobHeads.map(pathOf), 'HEADs of blobs in repositories the registry does not have').toEqual([]);
    const requests = tokened.tokenServer?.stats().requests ?? [];
    expect(requests.filter((r) => r.scopes.includes('registry:catalog:*')).map((r) => r.scopes)).toEqual([['registry:catalog:*']]);
    await expectLanded(tokened);
  });

  // A token service that will not grant `registry:catalog:*` (a Harbor non-admin, an ACR token without catalog
  // permission): an empty grant, which docker-registry answers 401, or a 403 at the token service itself. The
  // registry will not list, so each blob is asked about once; nothing is said of it, and everything lands.
  it.each(['empty', 'forbidden'] as const)('a bearer registry whose token service refuses the catalog (%s grant): a HEAD per blob, every image lands, exit 0', async (refusal) => {
    const tokened = await startRegistry({ auth: 'token', tokenOptions: { refusedScopes: ['registry:catalog:*'], refusal } });
    started.push(tokened);
    const traceFile = work.path(`catalog-refused-${refusal}.jsonl`);
    const run = expectOk(await ferry(['import', work.path('two.tar'), '--to', `${tokened.host}/mirror`, '--plain-http', '--creds', `${tokened.tokenServer?.username ?? ''}:${tokened.tokenServer?.password ?? ''}`, '--trace', traceFile, '--json']));
    const report = run.json as ImportJson;
    expect(report.failed).toEqual([]);
    expect(report.images).toHaveLength(keys.length);
    expect(run.stderr).toBe('');
    const trace = (await readFile(traceFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TraceRecord);
    expect(trace.filter((r) => pathOf(r) === '/v2/_catalog').every((r) => r.status !== 200)).toBe(true);
    const blobHeads = new Set(trace.filter((r) => r.method === 'HEAD' && pathOf(r).includes('/blobs/')).map(pathOf));
    expect(blobHeads.size).toBe(report.blobs.missing + report.blobs.mounted);
    // Bounded: at most two tries at the catalog's token (the grant, and once more after the registry's 401), the
    // catalog on no other token, and one token per other scope set (a repository's, a mount's pair).
    const requests = tokened.tokenServer?.stats().requests ?? [];
    const catalogTokens = requests.filter((r) => r.scopes.includes('registry:catalog:*'));
    expect(catalogTokens.length).toBeLessThanOrEqual(2);
    expect(catalogTokens.map((r) => r.scopes)).toEqual(catalogTokens.map(() => ['registry:catalog:*']));
    const sets = requests.filter((r) => !r.scopes.includes('registry:catalog:*')).map((r) => r.scopes.join(' '));
    expect(new Set(sets).size).toBe(sets.length);
    expect(sets.every((s) => s.split(' ').length <= 2)).toBe(true);
    await expectLanded(tokened);
  });

  it('refuses a PUT by tag whose Docker-Content-Digest is not the digest of the bytes sent', async () => {
    const rig = seededRig();
    const fresh = await startRegistry({});
    started.push(fresh);
    const liar = await startDigestLiar(new URL(fresh.url));
    started.push(liar);
    const run = await ferry(['import', work.path('two.tar'), '--to', `${liar.host}/mirror`, '--plain-http']);
    // Every image refused: the first cause is the exit (5, integrity), naming the claimed digest.
    const line = expectRefusal(run, 5, `sha256:${'0'.repeat(64)}`);
    expect(keys.some((k) => line.includes(rig.images.images[k].digest)), line).toBe(true);
  });
});

/** A pass-through proxy that claims every manifest PUT by tag stored digest sha256:000…0. */
async function startDigestLiar(upstream: URL): Promise<FixtureServer> {
  return startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const lie = req.method === 'PUT' && /\/manifests\/(?!sha256:)[^/]+$/.test(url.pathname);
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: `${url.pathname}${url.search}`, headers: req.headers }, (ures) => {
      const headers = { ...ures.headers, ...(lie ? { 'docker-content-digest': `sha256:${'0'.repeat(64)}` } : {}) };
      res.writeHead(ures.statusCode ?? 502, headers);
      ures.pipe(res);
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
    await new Promise<void>((resolve) => res.on('close', resolve));
  });
}
