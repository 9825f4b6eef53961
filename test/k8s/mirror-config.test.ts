import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MirrorConfigReport } from '../../src/k8s/index.js';
import { testImages } from '../bundle/fixtures.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext } from '../rig/context.js';
import { requireCapability, requirePeer } from '../rig/peers.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { startContainerd, type Containerd } from '../server/containerd-daemon.js';
import { startFerryServe, type FerryServe } from './ferry-serve-process.js';
import { UPSTREAM_IMAGES, writeUpstreamBundle } from './upstream-bundle.js';

// `ferry k8s mirror-config` against a real containerd: `ctr images pull
// --hosts-dir` reads the generated certs.d tree exactly as CRI does with
// config_path. The images are named after upstreams nobody can reach (Docker
// Hub without internet, a domain that does not resolve, a closed port), so a
// pull that succeeds, with the exported digest, came from the mirror: ferry
// serve (upstream names, ?ns=), or the site registry under a prefix
// (override_path), plain or TLS with a private CA.

const canRun =
  rigContext().available &&
  requirePeer('containerd', 'containerd') &&
  requirePeer('ctr', 'containerd') &&
  requireCapability('root (containerd runs as root)', process.getuid?.() === 0, 'run the tests as root');
const [appA, multi, docker, windows] = UPSTREAM_IMAGES.map((i) => i.name) as [string, string, string, string];

async function listedDigest(containerd: Containerd, name: string): Promise<string | undefined> {
  const ls = await containerd.ctr(['images', 'ls']);
  return ls.stdout.split('\n').find((l) => l.startsWith(`${name} `))?.split(/\s+/)[2];
}

describe('hosts.toml text', () => {
  it('names the upstream server (Docker Hub: registry-1.docker.io), the mirror, override_path for a prefix, a relative CA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-k8s-hosts-'));
    try {
      const ca = join(dir, 'ca.pem');
      await writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const spec = join(dir, 'site.yaml');
      await writeFile(spec, 'images:\n  - nginx:1.25\n  - mcr.microsoft.com/windows/servercore:ltsc2022\n  - quay.io/prometheus/node-exporter:v1.7.0\nretag:\n  - mcr.microsoft.com/=registry.site.example/mcr/\n  - quay.io/prometheus/=registry.site.example/prom/\n');
      const r = await ferry(['k8s', 'mirror-config', '-f', spec, '--registry', 'registry.site.example/mirror', '--ca-cert', ca, '-o', join(dir, 'certs.d'), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = r.json as MirrorConfigReport;
      expect(report.files.map((f) => f.upstream)).toEqual(['docker.io', 'mcr.microsoft.com', 'quay.io']);
      expect(await readFile(join(dir, 'certs.d', 'docker.io', 'hosts.toml'), 'utf8')).toBe(
        [
          '# docker.io: written by ferry k8s mirror-config.',
          '# Pulls of docker.io/… go to the mirror first; the upstream server is the fallback.',
          'server = "https://registry-1.docker.io"',
          '',
          '[host."https://registry.site.example/v2/mirror"]',
          '  capabilities = ["pull", "resolve"]',
          '  override_path = true',
          '  ca = "ferry-mirror-ca.crt"',
          '',
        ].join('\n'),
      );
      // A rule for the whole registry moves its mirror path; a rule for part of one can only be reported.
      expect(await readFile(join(dir, 'certs.d', 'mcr.microsoft.com', 'hosts.toml'), 'utf8')).toContain('[host."https://registry.site.example/v2/mcr"]');
      expect(await readFile(join(dir, 'certs.d', 'quay.io', 'hosts.toml'), 'utf8')).toContain('[host."https://registry.site.example/v2/mirror"]');
      expect(report.warnings).toEqual([expect.stringContaining('quay.io/prometheus/=registry.site.example/prom/ covers part of quay.io only')]);
      expect(await readFile(join(dir, 'certs.d', 'quay.io', 'ferry-mirror-ca.crt'), 'utf8')).toBe(await readFile(ca, 'utf8'));
      expect(report.containerdConfig).toBe('[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!canRun)('containerd pulls through the generated hosts.toml', () => {
  let work: string;
  let bundle: { path: string; digests: Record<string, string> };
  let containerd: Containerd;
  let mirror: FerryServe;
  let hostsDir: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-k8s-mirror-'));
    bundle = await writeUpstreamBundle(work);
    const store = join(work, 'store');
    const imported = await ferry(['import', bundle.path, '--to-store', '--store', store]);
    if (imported.code !== 0) throw new Error(imported.stderr);
    mirror = await startFerryServe(store);
    containerd = await startContainerd();
    hostsDir = join(work, 'certs.d');
    const r = await ferry(['k8s', 'mirror-config', '-f', bundle.path, '--registry', mirror.address, '--plain-http', '-o', hostsDir]);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  afterAll(async () => {
    await containerd?.stop();
    await mirror?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes one hosts.toml per upstream of the bundle, and tells how to wire containerd', async () => {
    const r = await ferry(['k8s', 'mirror-config', '-f', bundle.path, '--registry', mirror.address, '--plain-http', '-o', join(work, 'again')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('config_path = "/etc/containerd/certs.d"');
    for (const upstream of ['docker.io', 'registry.example.invalid', '127.0.0.1:9']) {
      expect(await readFile(join(work, 'again', upstream, 'hosts.toml'), 'utf8')).toContain(`[host."http://${mirror.address}"]`);
    }
  });

  it('pulls by the upstream names land on ferry serve (?ns= maps to the store names): OCI, index, Docker, port in the host', async () => {
    for (const name of [appA, multi, docker]) {
      const before = mirror.log.length;
      const pulled = await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir, '--snapshotter', 'native', name]);
      expect(pulled.code, `${name}: ${pulled.stderr}`).toBe(0);
      expect(await listedDigest(containerd, name)).toBe(bundle.digests[name]);
      // containerd asked the mirror for the upstream path; 200 only because ?ns= found docker.io/…, registry.example.invalid/… in the store.
      const path = name.replace(/^[^/]+\//, '').replace(/:([^:/]+)$/, '/manifests/$1');
      expect(mirror.log.slice(before).some((e) => e.path === `/v2/${path}` && e.status === 200), JSON.stringify(mirror.log.slice(before))).toBe(true);
    }
    // Without the hosts directory the same pull fails: the upstream really is unreachable.
    const direct = await containerd.ctr(['images', 'pull', '--snapshotter', 'native', '--plain-http', 'registry.example.invalid/team/multi:1.0']);
    expect(direct.code).not.toBe(0);
  });

  it('a Windows image imported with localized foreign layers is fetched from the mirror; preserved urls send containerd to the unreachable URL', async () => {
    const { foreignLayer } = (await testImages()).set;
    const fetched = await containerd.ctr(['content', 'fetch', '--hosts-dir', hostsDir, '--platform', 'windows/amd64', windows]);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(mirror.log.some((e) => e.path === `/v2/windows/servercore/blobs/${foreignLayer.digest}` && e.status === 200)).toBe(true);
    const preservedStore = join(work, 'preserved');
    const imported = await ferry(['import', bundle.path, '--to-store', '--store', preservedStore, '--foreign-layers', 'preserve']);
    expect(imported.code, imported.stderr).toBe(0);
    const preserved = await startFerryServe(preservedStore);
    try {
      const dir = join(work, 'preserved.d');
      const r = await ferry(['k8s', 'mirror-config', '--upstream', 'registry.example.invalid', '--registry', preserved.address, '--plain-http', '-o', dir]);
      expect(r.code, r.stderr).toBe(0);
      // A fresh containerd: the first one already holds the layer bytes (the same either way).
      const fresh = await startContainerd();
      try {
        const failed = await fresh.ctr(['content', 'fetch', '--hosts-dir', dir, '--platform', 'windows/amd64', windows]);
        expect(failed.code).not.toBe(0);
        expect(failed.stderr).toContain('127.0.0.1:9/layers/');
      } finally {
        await fresh.stop();
      }
    } finally {
      await preserved.stop();
    }
  });

  it('the site registry under a prefix (ferry import --to HOST/PREFIX): override_path with the /v2/PREFIX API root', async () => {
    const site: Registry = await startRegistry({});
    try {
      const imported = await ferry(['import', bundle.path, '--to', `${site.host}/site/mirror`, '--plain-http']);
      expect(imported.code, imported.stderr).toBe(0);
      const dir = join(work, 'site.d');
      const r = await ferry(['k8s', 'mirror-config', '-f', bundle.path, '--registry', `${site.host}/site/mirror`, '--plain-http', '-o', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(join(dir, 'docker.io', 'hosts.toml'), 'utf8')).toContain(`[host."http://${site.host}/v2/site/mirror"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n`);
      for (const name of [appA, multi]) {
        const pulled = await containerd.ctr(['images', 'pull', '--hosts-dir', dir, '--snapshotter', 'native', name]);
        expect(pulled.code, `${name}: ${pulled.stderr}`).toBe(0);
        expect(await listedDigest(containerd, name)).toBe(bundle.digests[name]);
      }
    } finally {
      await site.stop();
    }
  });

  it('a TLS site registry with a private CA: the CA copied beside hosts.toml and named relatively is trusted; without it TLS fails', async () => {
    const site = await startRegistry({ tls: true });
    try {
      const imported = await ferry(['import', bundle.path, '--to', `${site.host}/mirror`, '--ca-cert', site.caCertPath ?? '']);
      expect(imported.code, imported.stderr).toBe(0);
      const withCa = join(work, 'tls.d');
      const r = await ferry(['k8s', 'mirror-config', '--upstream', 'docker.io', '--registry', `${site.host}/mirror`, '--ca-cert', site.caCertPath ?? '', '-o', withCa]);
      expect(r.code, r.stderr).toBe(0);
      const pulled = await containerd.ctr(['images', 'pull', '--hosts-dir', withCa, '--snapshotter', 'native', appA]);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(await listedDigest(containerd, appA)).toBe(bundle.digests[appA]);

      const noCa = join(work, 'tls-no-ca.d');
      expect((await ferry(['k8s', 'mirror-config', '--upstream', 'docker.io', '--registry', `${site.host}/mirror`, '-o', noCa])).code).toBe(0);
      const refused = await containerd.ctr(['images', 'pull', '--hosts-dir', noCa, '--snapshotter', 'native', appA]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/certificate/i);

      const skip = join(work, 'tls-skip.d');
      expect((await ferry(['k8s', 'mirror-config', '--upstream', 'docker.io', '--registry', `${site.host}/mirror`, '--skip-verify', '-o', skip])).code).toBe(0);
      const skipped = await containerd.ctr(['images', 'pull', '--hosts-dir', skip, '--snapshotter', 'native', appA]);
      expect(skipped.code, skipped.stderr).toBe(0);
    } finally {
      await site.stop();
    }
  });
});
