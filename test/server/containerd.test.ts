import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/registry/server/index.js';
import { createCa, type TestCa } from '../rig/ca.js';
import { rigContext, seededRig } from '../rig/context.js';
import { requireCapability, requirePeer, run, runOk } from '../rig/peers.js';
import { startContainerd, type Containerd } from './containerd-daemon.js';
import { serve, type Served } from './harness.js';

// The consumers on the far side: containerd (plain HTTP, TLS with a private CA
// through hosts.toml, and as a mirror with ?ns=) and podman pull from ferry serve.

const canRun =
  rigContext().available &&
  requirePeer('containerd', 'containerd') &&
  requirePeer('ctr', 'containerd') &&
  requireCapability('root (containerd runs as root)', process.getuid?.() === 0, 'run the tests as root');

async function copyIn(s: Served, reference: string, as: string = reference, certDir?: string): Promise<void> {
  const rig = seededRig();
  const dest = certDir ? ['--dest-cert-dir', certDir] : ['--dest-tls-verify=false'];
  await runOk('skopeo', ['--insecure-policy', 'copy', '--all', '--preserve-digests', '--src-tls-verify=false', ...dest, `docker://${rig.source.host}/${reference}`, `docker://${s.server.address}/${as}`]);
}

/** The target digest `ctr images ls` shows for `name`. */
async function imageDigest(containerd: Containerd, name: string): Promise<string | undefined> {
  const ls = await containerd.ctr(['images', 'ls']);
  const line = ls.stdout.split('\n').find((l) => l.startsWith(`${name} `));
  return line?.split(/\s+/).find((f) => f.startsWith('sha256:'));
}

describe.skipIf(!canRun)('containerd and podman pull from ferry serve', () => {
  let s: Served;
  let tlsServed: Served;
  let ca: TestCa;
  let containerd: Containerd;
  let work: string;
  beforeAll(async () => {
    const { images } = seededRig().images;
    work = await mkdtemp(join(tmpdir(), 'ferry-serve-ctr-'));
    ca = await createCa(work);
    s = await serve();
    tlsServed = await serve({ tls: { certFile: ca.serverCertPath, keyFile: ca.serverKeyPath }, caCert: ca.caCertPem });
    for (const key of ['multi', 'docker', 'appA'] as const) await copyIn(s, images[key].reference);
    await copyIn(s, images.appB.reference, `docker.io/${images.appB.reference}`);
    await copyIn(tlsServed, images.appA.reference, images.appA.reference, ca.certDir);
    containerd = await startContainerd();
  });
  afterAll(async () => {
    await containerd?.stop();
    await s?.stop();
    await tlsServed?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ctr pulls an OCI index, a Docker image and an OCI image over plain HTTP', async () => {
    const { images } = seededRig().images;
    for (const key of ['multi', 'docker', 'appA'] as const) {
      const ref = `${s.server.address}/${images[key].reference}`;
      const pulled = await containerd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', ref]);
      expect(pulled.code, `${key}: ${pulled.stderr}`).toBe(0);
      expect(await imageDigest(containerd, ref)).toBe(images[key].digest);
    }
    const check = await containerd.ctr(['images', 'check']);
    expect(check.stdout).not.toMatch(/incomplete|missing/);
  });

  it('ctr pulls over TLS with the private CA named in hosts.toml', async () => {
    const { appA } = seededRig().images.images;
    const hostsDir = join(work, 'certs.d');
    const host = tlsServed.server.address;
    await mkdir(join(hostsDir, host), { recursive: true });
    await writeFile(join(hostsDir, host, 'hosts.toml'), `server = "https://${host}"\n\n[host."https://${host}"]\n  ca = "${ca.caCertPath}"\n`);
    const ref = `${host}/${appA.reference}`;
    const pulled = await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir, '--snapshotter', 'native', ref]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await imageDigest(containerd, ref)).toBe(appA.digest);
    // Without the CA the same pull fails: the TLS really is checked.
    const bare = await containerd.ctr(['images', 'pull', '--snapshotter', 'native', `${host}/${appA.reference}`]);
    expect(bare.code).not.toBe(0);
  });

  it('as a containerd mirror (?ns=docker.io) it serves the repository imported as docker.io/<path>', async () => {
    const { appB } = seededRig().images.images;
    const hostsDir = join(work, 'mirror.d');
    await mkdir(join(hostsDir, 'docker.io'), { recursive: true });
    await writeFile(
      join(hostsDir, 'docker.io', 'hosts.toml'),
      `server = "https://registry-1.docker.io"\n\n[host."http://${s.server.address}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    const before = s.log.length;
    const ref = `docker.io/${appB.reference}`;
    const pulled = await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir, '--snapshotter', 'native', ref]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await imageDigest(containerd, ref)).toBe(appB.digest);
    // containerd asked for the upstream path; the store answered from docker.io/<path>.
    expect(s.log.slice(before).some((e) => e.path === `/v2/${appB.repository}/manifests/${appB.tag ?? ''}` && e.status === 200)).toBe(true);
  });

  it('?ns= falls back to the plain name, and does not leak other repositories', async () => {
    const { appA, appB } = seededRig().images.images;
    const plain = await s.send('HEAD', `/v2/${appA.repository}/manifests/${appA.tag ?? ''}?ns=docker.io`);
    expect(plain.headers['docker-content-digest']).toBe(appA.digest);
    const mapped = await s.send('HEAD', `/v2/${appB.repository}/manifests/${appB.tag ?? ''}?ns=docker.io`);
    expect(mapped.headers['docker-content-digest']).toBe(appB.digest);
    expect((await s.send('HEAD', `/v2/${appB.repository}/manifests/${appB.tag ?? ''}`)).status).toBe(404);
    expect((await s.send('HEAD', `/v2/${appB.repository}/manifests/${appB.tag ?? ''}?ns=quay.io`)).status).toBe(404);
  });

  it('as a mirror with a users file, ctr --user gets what the user may pull under the store name, and nothing by the path containerd asks for', async () => {
    const { appB } = seededRig().images.images;
    const usersFile = join(work, 'mirror-users.yaml');
    await addUser(usersFile, 'pusher', 'pusher-secret', [{ pattern: '*', roles: ['push'] }]);
    await addUser(usersFile, 'nodes', 'nodes-secret', [{ pattern: 'docker.io/*', roles: ['pull'] }]);
    // Allowed the upstream path containerd puts in the URL, not the store name it is read from.
    await addUser(usersFile, 'pathonly', 'pathonly-secret', [{ pattern: appB.repository, roles: ['pull'] }]);
    const authed = await serve({ users: usersFile });
    try {
      await runOk('skopeo', ['--insecure-policy', 'copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', 'pusher:pusher-secret',
        `docker://${seededRig().source.host}/${appB.reference}`, `docker://${authed.server.address}/docker.io/${appB.reference}`]);
      const hostsDir = join(work, 'mirror-users.d');
      await mkdir(join(hostsDir, 'docker.io'), { recursive: true });
      await writeFile(
        join(hostsDir, 'docker.io', 'hosts.toml'),
        `server = "https://registry-1.docker.io"\n\n[host."http://${authed.server.address}"]\n  capabilities = ["pull", "resolve"]\n`,
      );
      const pull = (user: string) => containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir, '--snapshotter', 'native', '--user', user, `docker.io/${appB.reference}`]);
      const before = authed.log.length;
      const refused = await pull('pathonly:pathonly-secret');
      expect(refused.code).not.toBe(0);
      expect(authed.log.slice(before).some((e) => e.path.includes('/manifests/') && e.status === 200)).toBe(false);
      const pulled = await pull('nodes:nodes-secret');
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(await imageDigest(containerd, `docker.io/${appB.reference}`)).toBe(appB.digest);
      expect(authed.log.some((e) => e.user === 'nodes' && e.path === `/v2/${appB.repository}/manifests/${appB.tag ?? ''}` && e.status === 200)).toBe(true);
    } finally {
      await authed.stop();
    }
  });

  it('ctr --user logs in through the token endpoint (OAuth2 POST form) of a server with a users file', async () => {
    const { appA } = seededRig().images.images;
    const usersFile = join(work, 'users.yaml');
    await addUser(usersFile, 'puller', 'puller-secret', [{ pattern: 'ferry-test/*', roles: ['pull'] }]);
    await addUser(usersFile, 'pusher', 'pusher-secret', [{ pattern: '*', roles: ['push'] }]);
    const authed = await serve({ users: usersFile });
    try {
      await runOk('skopeo', ['--insecure-policy', 'copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', 'pusher:pusher-secret',
        `docker://${seededRig().source.host}/${appA.reference}`, `docker://${authed.server.address}/${appA.reference}`]);
      const ref = `${authed.server.address}/${appA.reference}`;
      const anonymous = await containerd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', ref]);
      expect(anonymous.code).not.toBe(0);
      const pulled = await containerd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', '--user', 'puller:puller-secret', ref]);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(await imageDigest(containerd, ref)).toBe(appA.digest);
      expect(authed.log.some((e) => e.method === 'POST' && e.path === '/token' && e.status === 200)).toBe(true);
      expect(authed.log.filter((e) => e.path.includes('/blobs/') && e.status === 200).every((e) => e.user === 'puller')).toBe(true);
    } finally {
      await authed.stop();
    }
  });

  it.skipIf(!requirePeer('podman', 'podman'))('podman pulls OCI and Docker images with --tls-verify=false', async () => {
    const { appA, docker } = seededRig().images.images;
    const root = join(work, 'podman');
    const podman = (args: string[]) => run('podman', ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', ...args]);
    for (const image of [appA, docker]) {
      const pulled = await podman(['pull', '--tls-verify=false', `${s.server.address}/${image.reference}`]);
      expect(pulled.code, pulled.stderr).toBe(0);
      const digests = await podman(['images', '--digests', '--format', '{{.Digest}}', `${s.server.address}/${image.reference}`]);
      expect(digests.stdout.trim()).toBe(image.digest);
    }
  });
});
