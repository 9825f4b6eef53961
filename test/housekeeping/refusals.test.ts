import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type FerryResult } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, sourceRefs } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { CREDS, MANIFEST_DIGEST, startRefusingRegistry, type RefusingRegistry } from './refusing-registry.js';

// The ACR and Harbor refusals people running the far-side registry meet —
// quota used up, image locked, immutable tag, read-only mode, a missing role,
// 429 with Retry-After — each as ONE line saying which it is, the setting or
// role in the hint, and its exit code. A stand-in answers the real bodies
// (no peer here is ACR or Harbor); pushes come from the rig's real source.

describe.skipIf(!rigContext().available)('ACR and Harbor refusals', () => {
  let site: RefusingRegistry;
  const flags = () => ['--plain-http', '--creds', `${CREDS.username}:${CREDS.password}`, '--retries', '1'];
  const copyTo = (repo: string): Promise<FerryResult> => {
    const [source] = sourceRefs(seededRig(), ['appA']) as [string];
    return ferry(['copy', source, `${site.host}/${repo}:1.0`, ...flags()]);
  };
  const hintOf = (r: FerryResult) => /hint: (.*)/.exec(r.stderr)?.[1] ?? '';

  beforeAll(async () => {
    site = await startRefusingRegistry();
  });
  afterAll(async () => site?.stop());

  it('Harbor quota (403 DENIED "…exceed the configured upper limit…"): ERR_QUOTA_EXCEEDED, exit 3, what to delete or raise', async () => {
    const r = await copyTo('harbor/quota');
    expectRefusal(r, 3, "the registry's storage quota is used up", 'exceed the configured upper limit');
    expect(hintOf(r)).toMatch(/ferry prune --untagged.*raise the quota/);
    const json = await ferry(['copy', sourceRefs(seededRig(), ['appA'])[0] ?? '', `${site.host}/harbor/quota:1.0`, ...flags(), '--json']);
    expect((json.json as { error: { code: string } }).error.code).toBe('ERR_QUOTA_EXCEEDED');
  });

  it('ACR lock on a push (405 REGISTRY_DISALLOWED_OPERATION): ERR_LOCKED, exit 3, naming --write-enabled and the Azure Stack Hub quota', async () => {
    const r = await copyTo('acr/locked');
    expectRefusal(r, 3, 'the registry refuses writes here (image or repository locked, or its storage limit reached)', 'REGISTRY_DISALLOWED_OPERATION');
    expect(hintOf(r)).toMatch(/--write-enabled true.*Azure Stack Hub/);
  });

  it('ACR lock on a delete: ERR_LOCKED naming --delete-enabled; a token without AcrDelete: ERR_DENIED naming AcrDelete', async () => {
    const locked = await ferry(['rm', `${site.host}/acr/nodelete:1.0`, ...flags()]);
    expectRefusal(locked, 3, 'locked against deletes', `acr/nodelete/manifests/${MANIFEST_DIGEST}`);
    expect(hintOf(locked)).toMatch(/--delete-enabled true/);
    const reader = await ferry(['rm', `${site.host}/acr/reader:1.0`, ...flags()]);
    const line = expectRefusal(reader, 3, `was refused by ${site.host} to delete acr/reader`, '403 DENIED: requested access to the resource is denied');
    expect(line).toMatch(/lack the role to delete \(ACR: AcrDelete/);
  });

  it('Harbor immutable tag (412), read-only mode (403) and a guest pushing (401 "unauthorized to access repository"): one line each, exit 3', async () => {
    const immutable = await copyTo('harbor/immutable');
    expectRefusal(immutable, 3, 'the tag is immutable and cannot be overwritten or deleted', '412');
    const readonly = await copyTo('harbor/readonly');
    expectRefusal(readonly, 3, 'the registry is in read-only mode');
    const guest = await copyTo('harbor/guest');
    const line = expectRefusal(guest, 3, `was refused by ${site.host} to push harbor/guest`, 'unauthorized to access repository: harbor/guest, action: push');
    expect(line).toMatch(/lack the role to push .*AcrPush.*Harbor: Developer/);
  });

  it('429 with Retry-After: 2 is waited out and the listing succeeds; a registry that keeps answering 429 ends in exit 6', async () => {
    const r = expectOk(await ferry(['ls', `${site.host}/acr/throttled`, ...flags()]));
    expect(r.stdout.trim()).toBe(`${site.host}/acr/throttled:1.0`);
    const [first, second] = site.listedAt.get('acr/throttled') ?? [];
    expect(second, 'a second request after the 429').toBeDefined();
    // Honouring Retry-After means not asking again sooner (a lower bound; load only makes it later).
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(1900);
    const busy = await ferry(['ls', `${site.host}/acr/busy`, ...flags()]);
    expectRefusal(busy, 6, '429 TOOMANYREQUESTS');
  });
});
