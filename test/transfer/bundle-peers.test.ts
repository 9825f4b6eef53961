import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, sha256Hex, sourceRefs, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig, type AvailableRig } from '../rig/context.js';
import { IMAGE_KEYS, type RigImageKey } from '../rig/image-set.js';
import { requireCapability, requirePeer, run, runOk } from '../rig/peers.js';
import { startContainerd, type Containerd } from '../server/containerd-daemon.js';

// A bundle written by `ferry export` is a plain OCI-layout tar that other tools
// read without ferry: skopeo (oci-archive:), coreutils (sha256sum -c), openssl
// (the Ed25519 signature), containerd (ctr images import). And it is as small
// as its unique content: every shared blob once, metadata a fixed allowance.

/** Every graph a five-image export carries: the images and appA's referrers (SBOM, cosign signature). */
const CARRIED: readonly RigImageKey[] = [...IMAGE_KEYS, 'sbom', 'signature'];

function uniqueBlobs(rig: AvailableRig): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const key of CARRIED) {
    const image = rig.images.images[key];
    for (const d of [...image.manifests, ...image.blobs]) sizes.set(d.digest, d.size);
  }
  return sizes;
}

interface Listed {
  name: string;
  size: number;
}

/** `tar -tvf`: every entry with its size, in order, as GNU tar reads it. */
async function listTar(path: string): Promise<Listed[]> {
  const out = await runOk('tar', ['--numeric-owner', '-tvf', path]);
  return out.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.trim().split(/\s+/);
      return { name: f[f.length - 1] ?? '', size: Number(f[2]) };
    });
}

describe.skipIf(!rigContext().available)('a CLI-written bundle, read by ferry-less peers', () => {
  let work: WorkDir;
  const bundle = () => work.path('five.tar');

  beforeAll(async () => {
    work = await workDir('ferry-bundle-peers-');
    expectOk(await ferry(['keygen', '-o', work.path('k')]));
    expectOk(await ferry(['export', ...sourceRefs(seededRig()), '-o', bundle(), '--sign', work.path('k.key'), '--plain-http', '--store', work.path('store')]));
  });
  afterAll(async () => work?.cleanup());

  it('holds every blob exactly once and weighs no more than its unique bytes + 0.5% + the fixed metadata', async () => {
    const unique = uniqueBlobs(seededRig());
    const entries = await listTar(bundle());
    const blobNames = entries.map((e) => e.name).filter((n) => n.startsWith('blobs/sha256/'));
    expect(new Set(blobNames).size, 'no blob entry twice').toBe(blobNames.length);
    expect(blobNames.map((n) => `sha256:${n.slice('blobs/sha256/'.length)}`).sort()).toEqual([...unique.keys()].sort());
    // The shared base layer of appA and appB is one entry.
    const { appA, appB } = seededRig().images.images;
    const shared = appA.blobs.filter((b) => appB.blobs.some((x) => x.digest === b.digest));
    expect(shared.length).toBeGreaterThan(0);
    for (const s of shared) expect(blobNames.filter((n) => n.endsWith(s.digest.slice(7)))).toHaveLength(1);

    const uniqueBytes = [...unique.values()].reduce((a, b) => a + b, 0);
    const size = (await stat(bundle())).size;
    // Allowance, measured: the head files (oci-layout, ferry/*, index.json; index.db dominates)
    // plus tar framing — one 512-byte header and < 512 bytes of padding per entry, 1 KiB end marker.
    const headBytes = entries.filter((e) => !e.name.startsWith('blobs/')).reduce((a, e) => a + e.size, 0);
    const allowance = headBytes + entries.length * 1024 + 1024;
    if (process.env.FERRY_SHOW_NUMBERS) {
      console.info(`bundle ${size} B, unique blobs ${uniqueBytes} B (${unique.size}), head ${headBytes} B, entries ${entries.length}, ratio ${(size / uniqueBytes).toFixed(4)}`);
    }
    expect(size).toBeLessThanOrEqual(Math.ceil(uniqueBytes * 1.005) + allowance);
    // The allowance is small next to a duplicated layer: the bundle cannot hide a second copy of one.
    expect(allowance).toBeLessThan(Math.min(...shared.map((s) => s.size)));
  });

  it('is read by skopeo as an oci-archive, by sha256sum -c and by openssl after a plain tar -x', async () => {
    const { appA, appB } = seededRig().images.images;
    const index = JSON.parse((await runOk('tar', ['-xOf', bundle(), 'index.json'])).stdout) as { manifests: Array<{ annotations?: Record<string, string> }> };
    for (const image of [appA, appB]) {
      const ref = `${seededRig().source.host}/${image.reference}`;
      expect(index.manifests.some((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref)).toBe(true);
      const dir = work.path(`dir-${image.key}`);
      const copied = await run('skopeo', ['--insecure-policy', 'copy', `oci-archive:${bundle()}:${ref}`, `dir:${dir}`]);
      expect(copied.code, copied.stderr).toBe(0);
      expect(`sha256:${sha256Hex(await readFile(`${dir}/manifest.json`))}`).toBe(image.digest);
      for (const blob of image.blobs) expect(sha256Hex(await readFile(`${dir}/${blob.digest.slice(7)}`))).toBe(blob.digest.slice(7));
    }

    const tree = work.path('extracted');
    await mkdir(tree);
    await runOk('tar', ['-xf', bundle(), '-C', tree]);
    const sums = await run('sha256sum', ['-c', 'ferry/SHA256SUMS'], { cwd: tree });
    expect(sums.code, sums.stdout + sums.stderr).toBe(0);
    expect(sums.stdout.split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(uniqueBlobs(seededRig()).size);

    const verify = ['pkeyutl', '-verify', '-pubin', '-inkey', work.path('k.pub'), '-rawin', '-in', `${tree}/ferry/bundle.json`, '-sigfile', `${tree}/ferry/bundle.json.sig`];
    const good = await run('openssl', verify);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('Signature Verified Successfully');
    // And openssl is not just saying yes: one changed byte of bundle.json fails it.
    const json = await readFile(`${tree}/ferry/bundle.json`);
    json[10] ^= 0x01;
    await writeFile(`${tree}/ferry/bundle.json`, json);
    expect((await run('openssl', verify)).code).not.toBe(0);
  });

  describe.skipIf(!requirePeer('containerd', 'containerd') || !requireCapability('root (containerd runs as root)', process.getuid?.() === 0, 'run the tests as root'))('containerd', () => {
    let containerd: Containerd | undefined;
    const ctr = (...args: string[]) => containerd!.ctr(args);

    beforeAll(async () => {
      containerd = await startContainerd();
    });
    afterAll(async () => {
      await containerd?.stop();
    });

    it('ctr images import --no-unpack --all-platforms lists every exported image under its full name and digest', async () => {
      const rig = seededRig();
      const imported = await ctr('images', 'import', '--no-unpack', '--all-platforms', bundle());
      expect(imported.code, imported.stderr).toBe(0);
      const list = await ctr('images', 'ls');
      expect(list.code, list.stderr).toBe(0);
      for (const key of IMAGE_KEYS) {
        const name = `${rig.source.host}/${rig.images.images[key].reference}`;
        const line = list.stdout.split('\n').find((l) => l.startsWith(`${name} `));
        expect(line, `${name} in:\n${list.stdout}`).toBeDefined();
        expect(line).toContain(rig.images.images[key].digest);
      }
      // Every blob of every image, the shared base and the foreign layer included. (Referrers are
      // not index.json roots — they have no name — so containerd has no reason to take them.)
      const held = new Set((await ctr('content', 'ls', '-q')).stdout.split('\n').map((l) => l.trim()));
      for (const key of IMAGE_KEYS) {
        for (const d of [...rig.images.images[key].manifests, ...rig.images.images[key].blobs]) expect(held.has(d.digest), `${key} ${d.digest}`).toBe(true);
      }
    });
  });
});
