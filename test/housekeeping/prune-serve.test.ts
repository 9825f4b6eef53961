import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeGcReport } from '../../src/registry/api/index.js';
import { addUser } from '../../src/registry/server/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { manualClock } from '../helpers/manual-clock.js';
import { expectOk, expectRefusal, sha256Hex, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { hasBinary, runOk } from '../rig/peers.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { basicAuth, serve, type Served } from '../server/harness.js';
import { OCI_MANIFEST, pushTiny, type TinyImage } from './site-kit.js';

// `ferry prune --untagged` against ferry serve: prune notices the server
// (X-Ferry-Serve on /v2/) and asks its own GC (POST /ferry/v1/gc) instead of
// deleting manifest by manifest. A retag orphans one manifest; an index's
// children, a referrer of the tagged image, another repository's orphan and a
// fresh orphan (inside the grace window) must all survive the repository's
// prune. Time moves on the server's and store's shared clock, never by sleeping.

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const HOUR = 3_600_000;

describe('ferry prune --untagged against ferry serve', () => {
  const clock = manualClock();
  let work: WorkDir;
  let served: Served;
  let host: string;
  const creds = (user: string) => ['--creds', `${user}:${user}-secret`, '--plain-http'];
  const images: Record<string, TinyImage> = {};
  const get = async (path: string, accept = `${OCI_MANIFEST}, ${OCI_INDEX}`) => (await served.send('GET', path, { headers: { accept, authorization: basicAuth('admin', 'admin-secret') } })).status;

  beforeAll(async () => {
    work = await workDir('ferry-prune-serve-');
    const users = work.path('users.yaml');
    await addUser(users, 'admin', 'admin-secret', [{ pattern: '*', roles: ['pull', 'push', 'delete'] }]);
    await addUser(users, 'pusher', 'pusher-secret', [{ pattern: '*', roles: ['pull', 'push'] }]);
    await addUser(users, 'shopkeeper', 'shopkeeper-secret', [{ pattern: 'shop/*', roles: ['pull', 'push', 'delete'] }]);
    served = await serve({ users, clock: clock.now });
    host = new URL(served.server.url).host;
    const http = new RegistryHttp({ url: served.server.url, username: 'admin', password: 'admin-secret' });
    // shop/app:v1 moves from `old` to `new`: `old` is the orphan.
    images.old = await pushTiny(http, 'shop/app', 'old', ['v1']);
    images.new = await pushTiny(http, 'shop/app', 'new', ['v1']);
    // A referrer of the tagged image (untagged, reached through its subject).
    const empty = Buffer.from('{}');
    await http.pushBlob('shop/app', `sha256:${sha256Hex(empty)}`, empty);
    const sbom = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/spdx+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha256Hex(empty)}`, size: empty.length },
        layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha256Hex(empty)}`, size: empty.length }],
        subject: { mediaType: OCI_MANIFEST, digest: images.new.digest, size: images.new.bytes.length },
      }),
    );
    images.sbom = { digest: `sha256:${sha256Hex(sbom)}`, bytes: sbom };
    await http.pushManifest('shop/app', images.sbom.digest, OCI_MANIFEST, sbom);
    // An index tagged in shop/multi whose children are pushed by digest only.
    images.amd64 = await pushTiny(http, 'shop/multi', 'amd64');
    images.arm64 = await pushTiny(http, 'shop/multi', 'arm64');
    const platform = (p: TinyImage, architecture: string) => ({ mediaType: OCI_MANIFEST, digest: p.digest, size: p.bytes.length, platform: { architecture, os: 'linux' } });
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [platform(images.amd64, 'amd64'), platform(images.arm64, 'arm64')] }));
    images.index = { digest: `sha256:${sha256Hex(index)}`, bytes: index };
    await http.pushManifest('shop/multi', 'latest', OCI_INDEX, index);
    // Another repository's orphan: a repository prune leaves it; a registry prune takes it.
    images.stray = await pushTiny(http, 'other/x', 'stray');
    // Past the store's grace window and the server's upload pins (swept by its janitor).
    clock.advance(3 * HOUR);
    await served.server.sweep();
    // Pushed just now: untagged, but a push may be about to tag it.
    images.fresh = await pushTiny(http, 'shop/app', 'fresh');
    await http.close();
  }, 60_000);

  afterAll(async () => {
    await served?.stop();
    await work?.cleanup();
  });

  it('every answer says it is ferry serve', async () => {
    const ping = await served.send('GET', '/v2/');
    expect(ping.status).toBe(401);
    expect(ping.headers['x-ferry-serve']).toBe('v1');
  });

  it('refuses a user without the delete role, over Basic and over a Bearer token, with a clear message and exit code', async () => {
    const basic = await served.send('POST', '/ferry/v1/gc?repository=shop/app&dry-run=1', { headers: { authorization: basicAuth('pusher', 'pusher-secret') } });
    expect([basic.status, basic.code]).toEqual([403, 'DENIED']);
    const bearer = await ferry(['prune', `${host}/shop/app`, '--untagged', '--dry-run', ...creds('pusher')]);
    const line = expectRefusal(bearer, 3, 'pusher', 'delete');
    expect(line).toMatch(/denied|may not/i);
    // Delete on shop/* is not delete on every repository: the whole registry is refused.
    const whole = await ferry(['prune', host, '--untagged', '--dry-run', ...creds('shopkeeper')]);
    expectRefusal(whole, 3, 'shopkeeper');
    expect(await get(`/v2/shop/app/manifests/${images.old?.digest}`)).toBe(200);
  });

  it('a dry run over Basic lists exactly the orphan and removes nothing', async () => {
    const answer = await served.send('POST', '/ferry/v1/gc?repository=shop/app&dry-run=1', { headers: { authorization: basicAuth('shopkeeper', 'shopkeeper-secret') } });
    expect(answer.status).toBe(200);
    const report = answer.json<ServeGcReport>();
    expect(report.manifests).toEqual([{ repository: 'shop/app', digest: images.old?.digest, mediaType: OCI_MANIFEST }]);
    expect(report.blobs.count).toBe(3); // its manifest, config and layer
    expect(report.retained.manifests.map((m) => m.digest)).toEqual([images.fresh?.digest]);
    expect(await get(`/v2/shop/app/manifests/${images.old?.digest}`)).toBe(200);
  });

  it('the CLI dry run (Bearer) names the orphan, says ferry serve collects its own garbage, and removes nothing', async () => {
    const human = expectOk(await ferry(['prune', `${host}/shop/app`, '--untagged', '--dry-run', ...creds('admin')]));
    if (process.env.FERRY_SHOW_PRUNE) console.info(human.stdout);
    expect(human.stdout).toContain('ferry serve collects its own garbage: asked it to list what it would collect (dry run)');
    expect(human.stdout).toContain(`would delete ${host}/shop/app@${images.old?.digest}`);
    expect(human.stdout).toContain(`kept ${host}/shop/app@${images.fresh?.digest}`);
    expect(human.stdout).not.toMatch(/registry garbage-collect/);
    expect(await get(`/v2/shop/app/manifests/${images.old?.digest}`)).toBe(200);
  });

  it('the run removes exactly the orphan and its blobs; everything a tag, an index or a referrer subject reaches stays and pulls back', async () => {
    const run = expectOk(await ferry(['prune', `${host}/shop/app`, '--untagged', '--json', ...creds('admin')]));
    const report = run.json as ServeGcReport;
    expect(report.dryRun).toBe(false);
    expect(report.manifests.map((m) => `${m.repository}@${m.digest}`)).toEqual([`shop/app@${images.old?.digest}`]);
    expect(report.blobs.count).toBe(3);

    expect(await get(`/v2/shop/app/manifests/${images.old?.digest}`)).toBe(404);
    for (const [repo, image] of [
      ['shop/app', images.new],
      ['shop/app', images.sbom],
      ['shop/app', images.fresh],
      ['shop/multi', images.index],
      ['shop/multi', images.amd64],
      ['shop/multi', images.arm64],
      ['other/x', images.stray],
    ] as const) {
      expect(await get(`/v2/${repo}/manifests/${image?.digest}`), `${repo}@${image?.digest}`).toBe(200);
    }
    const referrers = await served.send('GET', `/v2/shop/app/referrers/${images.new?.digest}`, { headers: { authorization: basicAuth('admin', 'admin-secret') } });
    expect(referrers.json<{ manifests: Array<{ digest: string }> }>().manifests.map((m) => m.digest)).toEqual([images.sbom?.digest]);
    if (hasBinary('skopeo')) {
      for (const ref of ['shop/app:v1', 'shop/multi:latest']) {
        const dir = work.path(`pulled-${ref.replace(/[/:]/g, '-')}`);
        await runOk('skopeo', ['--insecure-policy', 'copy', '--all', '--src-tls-verify=false', '--src-creds', 'admin:admin-secret', `docker://${host}/${ref}`, `oci:${dir}`]);
      }
    }

    const again = expectOk(await ferry(['prune', `${host}/shop/app`, '--untagged', '--json', ...creds('admin')]));
    expect((again.json as ServeGcReport).manifests).toEqual([]);
  });

  it('the whole registry (delete on every repository) takes the other repository\'s orphan too', async () => {
    const run = expectOk(await ferry(['prune', host, '--untagged', ...creds('admin')]));
    if (process.env.FERRY_SHOW_PRUNE) console.info(run.stdout);
    expect(run.stdout).toContain(`deleted ${host}/other/x@${images.stray?.digest}`);
    expect(run.stdout).toMatch(/removed 3 blobs .* from disk/);
    expect(await get(`/v2/other/x/manifests/${images.stray?.digest}`)).toBe(404);
    expect(await get(`/v2/shop/app/manifests/v1`)).toBe(200);
    expect(await get(`/v2/shop/multi/manifests/latest`)).toBe(200);
  });
});
