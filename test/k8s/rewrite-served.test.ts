import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext } from '../rig/context.js';
import { requireCapability, requirePeer, run } from '../rig/peers.js';
import { startContainerd, type Containerd } from '../server/containerd-daemon.js';
import { startFerryServe, type FerryServe } from './ferry-serve-process.js';
import { writeUpstreamBundle } from './upstream-bundle.js';

// Issue 13.6: what `ferry k8s rewrite --registry HOST:PORT --pin-digests-from-store`
// writes is what ferry serve serves: HOST:PORT/<store name>, the upstream host
// kept in the path (':' as '_'). The upstreams are unreachable by construction
// (Docker Hub without internet, a closed loopback port, a domain that does not
// resolve), so what podman, skopeo and containerd pull came from ferry serve.

const canRun =
  rigContext().available &&
  requirePeer('podman', 'podman') &&
  requirePeer('skopeo', 'skopeo') &&
  requirePeer('containerd', 'containerd') &&
  requirePeer('ctr', 'containerd') &&
  requireCapability('root (containerd runs as root)', process.getuid?.() === 0, 'run the tests as root');

const MANIFEST = (images: string[]) =>
  ['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', 'spec:', '  template:', '    spec:', '      containers:', ...images.flatMap((image, i) => [`        - name: c${i}`, `          image: ${image}`]), ''].join('\n');

describe.skipIf(!canRun)('k8s rewrite names what ferry serve serves', () => {
  let work: string;
  let store: string;
  let digests: Record<string, string>;
  let mirror: FerryServe;
  let containerd: Containerd;
  let manifests: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-k8s-served-'));
    const bundle = await writeUpstreamBundle(work);
    digests = bundle.digests;
    store = join(work, 'store');
    const imported = await ferry(['import', bundle.path, '--to-store', '--store', store]);
    if (imported.code !== 0) throw new Error(imported.stderr);
    mirror = await startFerryServe(store);
    containerd = await startContainerd();
    manifests = join(work, 'manifests');
    await mkdir(manifests);
    // As people write them: Docker Hub short names, a host with a port.
    await writeFile(join(manifests, 'web.yaml'), MANIFEST(['app-a:1.0', '127.0.0.1:9/ferry-test/docker:1.0', 'registry.example.invalid/team/multi:1.0']));
  });
  afterAll(async () => {
    await containerd?.stop();
    await mirror?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function rewritten(...flags: string[]): Promise<string[]> {
    const r = await ferry(['k8s', 'rewrite', '-f', manifests, '--registry', mirror.address, '--store', store, '-o', '-', ...flags]);
    expect(r.code, r.stderr).toBe(ExitCode.ok);
    return [...r.stdout.matchAll(/image: (\S+)/g)].map((m) => m[1]!);
  }

  it('--pin-digests-from-store writes HOST:PORT/<upstream host>/<path>:<tag>@<digest>', async () => {
    expect(await rewritten('--pin-digests-from-store')).toEqual([
      `${mirror.address}/docker.io/library/app-a:1.0@${digests['docker.io/library/app-a:1.0']}`,
      `${mirror.address}/127.0.0.1_9/ferry-test/docker:1.0@${digests['127.0.0.1:9/ferry-test/docker:1.0']}`,
      `${mirror.address}/registry.example.invalid/team/multi:1.0@${digests['registry.example.invalid/team/multi:1.0']}`,
    ]);
    // Said without pins, the same names; rewriting the result again changes nothing.
    expect(await rewritten('--store-names')).toEqual([
      `${mirror.address}/docker.io/library/app-a:1.0`,
      `${mirror.address}/127.0.0.1_9/ferry-test/docker:1.0`,
      `${mirror.address}/registry.example.invalid/team/multi:1.0`,
    ]);
  });

  it('podman, skopeo and containerd pull every rewritten reference from ferry serve', async () => {
    const refs = await rewritten('--pin-digests-from-store');
    const root = join(work, 'podman');
    await mkdir(join(work, 'oci'));
    const podman = (args: string[]) => run('podman', ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', ...args]);
    for (const ref of refs) {
      const digest = ref.split('@')[1]!;
      const served = mirror.log.length;
      const pulled = await podman(['pull', '--tls-verify=false', ref]);
      expect(pulled.code, `podman pull ${ref}: ${pulled.stderr}`).toBe(0);
      // skopeo 1.9 refuses a tag and a digest together ("not supported"): it gets the digest form and the tag form.
      const [tagged, pinned] = [ref.split('@')[0]!, ref.replace(/:[^:/@]+@/, '@')];
      for (const form of [pinned, tagged]) {
        const copied = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${form}`, `oci:${join(work, 'oci', String(served))}:x`]);
        expect(copied.code, `skopeo copy ${form}: ${copied.stderr}`).toBe(0);
      }
      const ctr = await containerd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', ref]);
      expect(ctr.code, `ctr images pull ${ref}: ${ctr.stderr}`).toBe(0);
      // Each peer fetched that manifest by digest from ferry serve, under the store name.
      const path = `/v2/${ref.slice(mirror.address.length + 1).replace(/:[^:/@]+@/, '@').split('@')[0]}/manifests/${digest}`;
      expect(mirror.log.slice(served).filter((e) => e.path === path && e.status === 200).length, JSON.stringify(mirror.log.slice(served))).toBeGreaterThanOrEqual(3);
    }
  });

  it('ferry serve names take no prefix and no retag rules', async () => {
    const r = await ferry(['k8s', 'rewrite', '-f', manifests, '--registry', `${mirror.address}/mirror`, '--store-names']);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain('ferry serve serves its images at the root');
  });
});
