import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/registry/server/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { registryBlobs } from '../rig/image-set.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { serve, type Served } from '../server/harness.js';
import { inBatches, pushTiny, tracedUrls } from './site-kit.js';

// `ferry ls`: more than 100 repositories and tags, paged at a small n to the
// end (real docker-registry, ferry serve with a users file), a registry that
// will not list its catalog to these credentials, and --long / one-image
// listings checked against what the rig built — every printed name accepted back.

const REPOS = 105;
const TAGS = 130;
const ADMIN = { user: 'admin', pass: 'admin-secret' };

type LsRepos = { repositories: Array<{ name: string; reference: string }> };
type LsTags = { tags: Array<{ tag: string; reference: string; digest?: string; platforms?: string[]; size?: number; mediaType?: string }> };

async function seedMany(http: RegistryHttp): Promise<void> {
  const names = Array.from({ length: REPOS }, (_, i) => `many/r${String(i).padStart(3, '0')}`);
  await inBatches(names, 8, (name) => pushTiny(http, name, name, ['v1']));
  const { bytes } = await pushTiny(http, 'tags/app', 'tags', []);
  const tags = Array.from({ length: TAGS }, (_, i) => `t${String(i).padStart(3, '0')}`);
  await inBatches(tags, 8, (tag) => http.pushManifest('tags/app', tag, 'application/vnd.oci.image.manifest.v1+json', bytes));
}

describe.skipIf(!rigContext().available)('ferry ls', () => {
  let work: WorkDir;
  let plain: Registry;
  let tokens: Registry;
  let served: Served;
  const https: RegistryHttp[] = [];

  beforeAll(async () => {
    work = await workDir('ferry-ls-');
    const users = work.path('users.yaml');
    await addUser(users, ADMIN.user, ADMIN.pass, [{ pattern: '*', roles: ['pull', 'push', 'delete'] }]);
    [plain, tokens, served] = await Promise.all([
      startRegistry(),
      startRegistry({ auth: 'token', tokenOptions: { readers: { reader: 'reader-pass' } } }),
      serve({ users }),
    ]);
    const toPlain = new RegistryHttp(plain);
    const toServed = new RegistryHttp({ url: served.server.url, username: ADMIN.user, password: ADMIN.pass });
    const toTokens = new RegistryHttp(tokens);
    https.push(toPlain, toServed, toTokens);
    await Promise.all([seedMany(toPlain), seedMany(toServed), pushTiny(toTokens, 'shop/app', 'shop', ['1.0'])]);
  }, 240_000);

  afterAll(async () => {
    for (const h of https) await h.close();
    await Promise.all([plain?.stop(), tokens?.stop(), served?.stop()]);
    await work?.cleanup();
  });

  it(`docker-registry: all ${REPOS + 1} repositories through _catalog pages of 10, then all ${TAGS} tags`, async () => {
    const trace = work.path('plain.trace');
    const repos = expectOk(await ferry(['ls', plain.host, '--page-size', '10', '--plain-http', '--trace', trace, '--json']));
    const names = (repos.json as LsRepos).repositories.map((r) => r.name);
    expect(names).toHaveLength(REPOS + 1);
    expect(names).toContain('many/r104');
    expect((await tracedUrls(trace)).filter((u) => u.includes('/v2/_catalog')).length).toBeGreaterThanOrEqual(11);
    const human = expectOk(await ferry(['ls', plain.host, '--page-size', '10', '--plain-http']));
    expect(human.stdout.trim().split('\n')).toEqual((repos.json as LsRepos).repositories.map((r) => r.reference));
    const tags = expectOk(await ferry(['ls', `${plain.host}/tags/app`, '--plain-http', '--json']));
    expect((tags.json as LsTags).tags.map((t) => t.tag)).toHaveLength(TAGS);
  });

  it('ferry serve with a users file: _catalog and tags/list paged at n=10 to the end', async () => {
    const host = new URL(served.server.url).host;
    const creds = ['--creds', `${ADMIN.user}:${ADMIN.pass}`, '--plain-http'];
    const trace = work.path('served.trace');
    const repos = expectOk(await ferry(['ls', host, '--page-size', '10', ...creds, '--trace', trace, '--json']));
    expect((repos.json as LsRepos).repositories).toHaveLength(REPOS + 1);
    const tags = expectOk(await ferry(['ls', `${host}/tags/app`, '--page-size', '10', ...creds, '--trace', trace, '--json']));
    expect(new Set((tags.json as LsTags).tags.map((t) => t.tag)).size).toBe(TAGS);
    const urls = await tracedUrls(trace);
    expect(urls.filter((u) => u.includes('/v2/_catalog')).length).toBeGreaterThanOrEqual(11);
    expect(urls.filter((u) => u.includes('/tags/list')).length).toBeGreaterThanOrEqual(13);
  });

  it('a token that lacks the catalog scope: one line saying the registry will not list, and what to do (exit 3)', async () => {
    const reader = ['--creds', 'reader:reader-pass', '--plain-http'];
    const r = await ferry(['ls', tokens.host, ...reader]);
    expectRefusal(r, 3, `user reader was refused by ${tokens.host} to list its repositories`, `ferry ls ${tokens.host}/REPO`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const one = expectOk(await ferry(['ls', `${tokens.host}/shop/app`, ...reader]));
    expect(one.stdout.trim()).toBe(`${tokens.host}/shop/app:1.0`);
  });

  it('a token service that answers the catalog scope 403 (not an empty grant): the same line, naming the listing (exit 3)', async () => {
    const forbids = await startRegistry({ auth: 'token', tokenOptions: { refusedScopes: ['registry:catalog:*'], refusal: 'forbidden' } });
    try {
      const user = forbids.tokenServer;
      const r = await ferry(['ls', forbids.host, '--creds', `${user?.username ?? ''}:${user?.password ?? ''}`, '--plain-http']);
      expectRefusal(r, 3, `user ${user?.username ?? ''} was refused by ${forbids.host} to list its repositories`, `ferry ls ${forbids.host}/REPO`);
    } finally {
      await forbids.stop();
    }
  });

  it('--long and one image: digest, media type, platforms and size as built; children and referrers; every name accepted back', async () => {
    const rig = seededRig();
    const { multi, appA, sbom, signature } = rig.images.images;
    const src = rig.source.host;
    const sizeOf = (image: typeof multi) => [...image.manifests, ...registryBlobs(image)].reduce((n, d) => n + d.size, 0);

    const long = expectOk(await ferry(['ls', `${src}/${multi.repository}`, '-l', '--plain-http', '--json']));
    const row = (long.json as LsTags).tags.find((t) => t.tag === multi.tag);
    expect(row).toMatchObject({ reference: `${src}/${multi.reference}`, digest: multi.digest, mediaType: multi.mediaType, platforms: ['linux/amd64', 'linux/arm64/v8'], size: sizeOf(multi) });

    const one = expectOk(await ferry(['ls', `${src}/${appA.repository}@${appA.digest}`, '--plain-http', '--json']));
    const listing = one.json as { digest: string; platforms: string[]; size: number; referrers: Array<{ reference: string; digest: string; tag?: string }> };
    expect(listing).toMatchObject({ digest: appA.digest, platforms: ['linux/amd64'], size: sizeOf(appA) });
    expect(listing.referrers.map((r) => r.digest).sort()).toEqual([sbom.digest, signature.digest].sort());
    expect(listing.referrers.find((r) => r.digest === signature.digest)?.tag).toBe(signature.tag);

    const index = expectOk(await ferry(['ls', `${src}/${multi.reference}`, '--plain-http', '--json']));
    const children = (index.json as { children: Array<{ reference: string; digest: string; platform?: string }> }).children;
    expect(children.map((c) => c.digest)).toEqual(multi.manifests.slice(1).map((m) => m.digest));
    // One name, one decision: what ls printed, ls takes back.
    const human = expectOk(await ferry(['ls', `${src}/${multi.repository}`, '--plain-http']));
    for (const ref of [...human.stdout.trim().split('\n'), ...children.map((c) => c.reference), ...listing.referrers.map((r) => r.reference)]) {
      expectOk(await ferry(['ls', ref, '--plain-http']));
    }
  });
});
