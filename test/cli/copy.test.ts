import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { run } from '../rig/peers.js';

// `ferry copy`: registry to registry with the same graph copy as export/import;
// the peer (skopeo) reads what we wrote.

describe.skipIf(!rigContext().available)('ferry copy', () => {
  let target: Registry;
  beforeAll(async () => {
    target = await startRegistry({});
  });
  afterAll(async () => target?.stop());

  async function remoteDigest(ref: string): Promise<string> {
    const r = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(r.code, r.stderr).toBe(0);
    return `sha256:${createHash('sha256').update(r.stdout).digest('hex')}`;
  }

  it('copies a multi-arch index with its digest kept, then skips everything on a rerun', async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const args = ['copy', `${rig.source.host}/${multi.reference}`, `${target.host}/mirror/multi:1.0`, '--plain-http', '--json'];
    const first = await ferry(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ digest: multi.digest });
    expect(await remoteDigest(`${target.host}/mirror/multi:1.0`)).toBe(multi.digest);
    const again = await ferry(args);
    expect(again.json).toMatchObject({ copy: { copied: 0, bytesTransferred: 0 } });
  });

  it('--platform selects the platform manifest as the root and says so', async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const arm = multi.manifests.find((m) => m.platform?.architecture === 'arm64');
    expect(arm).toBeDefined();
    const r = await ferry(['copy', `${rig.source.host}/${multi.reference}`, `${target.host}/mirror/multi-arm:1.0`, '--platform', 'linux/arm64', '--plain-http', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ digest: arm!.digest, sourceDigest: multi.digest });
    expect(await remoteDigest(`${target.host}/mirror/multi-arm:1.0`)).toBe(arm!.digest);
  });
});
