import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, expectRefusal, sourceRefs } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 13.10: a typo in a tag or a repository names the reference and what the
// registry has instead — the nearest tags, or that the repository does not exist
// (and the nearest repository) — for export, copy and `ferry ls REG/REPO:TAG`,
// against a real docker-registry. The registry's own 404 stays in --json's details.

const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-not-found-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TAGS = ['1.3.0', '1.4.0', '1.4.1', '1.4.2', '2.0.0', 'latest'];

describe.skipIf(!rigContext().available)('not-found hints', () => {
  let reg: Registry;
  let host: string;

  beforeAll(async () => {
    reg = await startRegistry();
    host = reg.host;
    const [source] = sourceRefs(seededRig(), ['appA']) as [string];
    for (const tag of TAGS) expectOk(await ferry(['copy', source, `${host}/acme/api:${tag}`, '--plain-http']));
  });
  afterAll(async () => reg?.stop());

  it('export of a missing tag: the reference, the registry and the nearest tags (exit 4)', async () => {
    const r = await ferry(['export', `${host}/acme/api:1.4.3`, '-o', join(dir, 'x.tar'), '--plain-http', '--store', join(dir, 'store')]);
    const line = expectRefusal(r, 4, `acme/api:1.4.3 not found on ${host}; the repository has 1.4.2, 1.4.1, 1.4.0 and 3 more (ferry ls ${host}/acme/api)`);
    expect(line).not.toContain('http://');
  });

  it('copy from a repository that does not exist: says so, and names the one it was probably meant to be', async () => {
    const r = await ferry(['copy', `${host}/acme/apii:1.4.2`, `${host}/acme/copy:1.4.2`, '--plain-http']);
    expectRefusal(r, 4, `repository acme/apii does not exist on ${host}; did you mean acme/api?`);
  });

  it('ferry ls REG/REPO:TAG and REG/REPO@digest', async () => {
    const tag = await ferry(['ls', `${host}/acme/api:1.4.3`, '--plain-http']);
    expectRefusal(tag, 4, `acme/api:1.4.3 not found on ${host}; the repository has 1.4.2, 1.4.1, 1.4.0`);
    const digest = `sha256:${'0'.repeat(64)}`;
    const pinned = await ferry(['ls', `${host}/acme/api@${digest}`, '--plain-http']);
    expectRefusal(pinned, 4, `acme/api@${digest} not found on ${host}; the repository exists (6 tags: ferry ls ${host}/acme/api)`);
    const repo = await ferry(['ls', `${host}/nothing/here:1.0`, '--plain-http']);
    expectRefusal(repo, 4, `repository nothing/here does not exist on ${host}`);
  });

  it('--json: the code, and the registry answer in the details', async () => {
    const r = await ferry(['ls', `${host}/acme/api:1.4.3`, '--plain-http', '--json']);
    expect(r.code).toBe(4);
    const doc = r.json as { error: { code: string; details: { request: string; repository: string; tag: string } } };
    expect(doc.error.code).toBe('ERR_MANIFEST_UNKNOWN');
    expect(doc.error.details).toMatchObject({ repository: 'acme/api', tag: '1.4.3' });
    expect(doc.error.details.request).toMatch(/^GET http:\/\/.*\/v2\/acme\/api\/manifests\/1\.4\.3: 404 MANIFEST_UNKNOWN/);
  });
});
