import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/registry/server/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { serve, type Served } from '../server/harness.js';
import { OCI_MANIFEST, pushTiny } from './site-kit.js';

// `ferry rm`: by tag (every tag on the digest goes, and is named first), by
// digest, with and without referrers, against a real docker-registry with
// deletes on and off, and ferry serve with a users file (a user without the
// delete role is told which role it lacks).

type RmJson = {
  removed: Array<{ manifest: string; digest: string; tags: string[]; referrers: Array<{ digest: string }>; deleted: boolean; referrersDeleted: boolean; referrersIndex?: string }>;
  failed: Array<{ code: string }>;
};

describe.skipIf(!rigContext().available)('ferry rm', () => {
  let work: WorkDir;
  let plain: Registry;
  let noDelete: Registry;
  let served: Served;
  let view: TargetView;
  const repo = 'shop/ferry-test/app-a';

  const importAppA = async () => {
    expectOk(await ferry(['import', work.path('app-a.tar'), '--to', `${plain.host}/shop`, '--plain-http', '--store', work.path('import-store')]));
  };

  beforeAll(async () => {
    const rig = seededRig();
    work = await workDir('ferry-rm-');
    const users = work.path('users.yaml');
    await addUser(users, 'admin', 'admin-secret', [{ pattern: '*', roles: ['pull', 'push', 'delete'] }]);
    await addUser(users, 'pusher', 'pusher-secret', [{ pattern: '*', roles: ['pull', 'push'] }]);
    [plain, noDelete, served] = await Promise.all([startRegistry(), startRegistry({ deleteEnabled: false }), serve({ users })]);
    view = new TargetView(plain);
    expectOk(await ferry(['export', ...sourceRefs(rig, ['appA']), '-o', work.path('app-a.tar'), '--plain-http', '--store', work.path('export-store')]));
    await importAppA();
  }, 180_000);

  afterAll(async () => {
    await view?.close();
    await Promise.all([plain?.stop(), noDelete?.stop(), served?.stop()]);
    await work?.cleanup();
  });

  it('by tag: --dry-run names every tag on the digest and the referrers, deletes nothing; then the manifest goes with all its tags', async () => {
    const { appA, sbom, signature } = seededRig().images.images;
    const http = new RegistryHttp(plain);
    await http.pushManifest(repo, 'stable', appA.mediaType, (await http.send('GET', `/v2/${repo}/manifests/1.0`, { accept: appA.mediaType })).body);
    await http.close();

    const dry = expectOk(await ferry(['rm', `${plain.host}/${repo}:1.0`, '--dry-run', '--plain-http', '--json']));
    const plan = (dry.json as RmJson).removed[0];
    expect(plan).toMatchObject({ digest: appA.digest, deleted: false });
    expect(plan?.tags.sort()).toEqual(['1.0', 'stable']);
    expect(plan?.referrers.map((r) => r.digest).sort()).toEqual([sbom.digest, signature.digest].sort());
    expect((await view.manifest(repo, '1.0'))?.digest).toBe(appA.digest);
    const human = expectOk(await ferry(['rm', `${plain.host}/${repo}:1.0`, '--dry-run', '--plain-http']));
    expect(human.stdout).toContain('every tag on it goes with it: ');

    const done = expectOk(await ferry(['rm', `${plain.host}/${repo}:stable`, '--plain-http']));
    expect(done.stdout).toContain(`deleted ${plain.host}/${repo}@${appA.digest}`);
    expect(done.stdout).toMatch(/referrers left pointing at nothing: .*--with-referrers/);
    expect(await view.manifest(repo, appA.digest)).toBeUndefined();
    expect((await view.tags(repo)).filter((t) => !t.startsWith('sha256-'))).toEqual([]);
    // Without --with-referrers they stay.
    expect((await view.manifest(repo, sbom.digest))?.digest).toBe(sbom.digest);
  });

  it('by digest --with-referrers: the manifest, its SBOM and signature, and the tag-schema index that listed them all go', async () => {
    const { appA, sbom, signature } = seededRig().images.images;
    await importAppA();
    expect((await view.manifest(repo, '1.0'))?.digest).toBe(appA.digest);
    const r = expectOk(await ferry(['rm', `${plain.host}/${repo}@${appA.digest}`, '--with-referrers', '--plain-http', '--json']));
    const removed = (r.json as RmJson).removed[0];
    expect(removed).toMatchObject({ deleted: true, referrersDeleted: true, referrersIndex: `${plain.host}/${repo}:sha256-${appA.digest.slice(7)}` });
    for (const digest of [appA.digest, sbom.digest, signature.digest]) expect(await view.manifest(repo, digest), digest).toBeUndefined();
    expect(await view.tags(repo)).toEqual([]);
  });

  it('two references, one missing: the other is deleted and the run exits 7 naming the missing one (the repository is left with no tags)', async () => {
    const http = new RegistryHttp(plain);
    const tiny = await pushTiny(http, 'shop/tiny', 'tiny', ['1.0']);
    await http.close();
    const r = await ferry(['rm', `${plain.host}/shop/tiny:1.0`, `${plain.host}/shop/tiny:nope`, '--plain-http']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain(`ferry: error: 1 of 2 manifests failed:\nferry: error:   ${plain.host}/shop/tiny:nope: shop/tiny:nope not found on ${plain.host}; the repository has no tags\n`);
    expect(await view.manifest('shop/tiny', tiny.digest)).toBeUndefined();
  });

  it('a typo in the tag or the repository: the nearest tags, or the repository meant (exit 4), on docker-registry and ferry serve', async () => {
    const servedHost = new URL(served.server.url).host;
    const admin = ['--creds', 'admin:admin-secret'];
    for (const [registry, http, creds] of [
      [plain.host, new RegistryHttp(plain), []],
      [servedHost, new RegistryHttp({ url: served.server.url, username: 'admin', password: 'admin-secret' }), admin],
    ] as const) {
      await pushTiny(http, 'acme/api', 'api', ['1.4.0', '1.4.1', '1.4.2', '2.0.0', 'latest']);
      await http.close();
      const tag = await ferry(['rm', `${registry}/acme/api:1.4.3`, '--plain-http', ...creds]);
      expectRefusal(tag, 4, `acme/api:1.4.3 not found on ${registry}; the repository has 1.4.2, 1.4.1, 1.4.0 and 2 more (ferry ls ${registry}/acme/api)`);
      const repo = await ferry(['rm', `${registry}/acme/apii:1.4.2`, '--plain-http', ...creds]);
      expectRefusal(repo, 4, `repository acme/apii does not exist on ${registry}; did you mean acme/api?`);
      const json = await ferry(['rm', `${registry}/acme/api:1.4.3`, '--plain-http', '--json', ...creds]);
      expect((json.json as { error: { code: string; details: { request: string } } }).error).toMatchObject({ code: 'ERR_MANIFEST_UNKNOWN', details: { request: expect.stringContaining('404') } });
    }
  });

  it('deletes turned off (storage.delete.enabled: false): exit 2, one line naming the setting, nothing gone', async () => {
    const http = new RegistryHttp(noDelete);
    const tiny = await pushTiny(http, 'shop/kept', 'kept', ['1.0']);
    await http.close();
    const r = await ferry(['rm', `${noDelete.host}/shop/kept:1.0`, '--plain-http']);
    expectRefusal(r, 2, 'the registry has deletes turned off', '405 UNSUPPORTED');
    expect(r.stderr).toMatch(/hint: distribution: set storage.delete.enabled: true/);
    const still = new TargetView(noDelete);
    expect((await still.manifest('shop/kept', '1.0'))?.digest).toBe(tiny.digest);
    await still.close();
  });

  it('ferry serve: a user without the delete role is told which role it lacks (exit 3); one with it deletes every tag', async () => {
    const host = new URL(served.server.url).host;
    const http = new RegistryHttp({ url: served.server.url, username: 'admin', password: 'admin-secret' });
    const tiny = await pushTiny(http, 'team/app', 'served', ['1.0', 'latest']);
    const denied = await ferry(['rm', `${host}/team/app:1.0`, '--plain-http', '--creds', 'pusher:pusher-secret']);
    const line = expectRefusal(denied, 3, `user pusher was refused by ${host} to delete team/app`);
    expect(line).toMatch(/lack the role to delete.*AcrDelete.*delete in the users file/);
    const ok = expectOk(await ferry(['rm', `${host}/team/app:latest`, '--plain-http', '--creds', 'admin:admin-secret', '--json']));
    expect((ok.json as RmJson).removed[0]?.tags.sort()).toEqual(['1.0', 'latest']);
    expect((await http.send('GET', `/v2/team/app/manifests/${tiny.digest}`, { accept: OCI_MANIFEST })).status).toBe(404);
    await http.close();
  });
});
