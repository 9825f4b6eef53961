import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/index.js';
import type { RewriteReport } from '../../src/k8s/index.js';
import { descriptorOf, fetchFrom, tempDir, testImages } from '../bundle/fixtures.js';
import { ferry } from '../helpers/ferry-cli.js';

// `ferry k8s rewrite` through the real CLI: outputs (-o DIR, --in-place, -o -,
// preview), untouched files byte-identical, all-or-nothing on a bad file, and
// --pin-digests from a bundle agreeing with what `ferry import` really lands
// (the Windows image's foreign layer is localized, so its digest changes).

const DEPLOY = `# web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25   # the front end
      - name: agent
        image: mcr.microsoft.com/windows/servercore:ltsc2022
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 80}]
`;
const JOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    spec:
      containers:
      - {name: once, image: "busybox:1.36"}
`;

describe('ferry k8s rewrite', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let bundle: string;
  let manifests: string;
  let digests: { nginx: string; windows: string };

  beforeAll(async () => {
    work = await tempDir('ferry-k8s-rewrite-');
    const { set, blobs } = await testImages();
    bundle = join(work.dir, 'site.tar');
    await writeBundle({
      images: [
        { name: 'docker.io/library/nginx:1.25', root: descriptorOf(set.images.appA) },
        { name: 'mcr.microsoft.com/windows/servercore:ltsc2022', root: descriptorOf(set.images.windows) },
      ],
      fetch: fetchFrom(blobs).fetch,
      out: bundle,
      created: new Date('2024-01-01T00:00:00Z'),
      toolVersion: '0.1.0-test',
    });
    digests = { nginx: set.images.appA.digest, windows: set.images.windows.digest };
    manifests = join(work.dir, 'manifests');
    await mkdir(join(manifests, 'jobs'), { recursive: true });
    await writeFile(join(manifests, 'deploy.yaml'), DEPLOY);
    await writeFile(join(manifests, 'service.yaml'), SERVICE);
    await writeFile(join(manifests, 'jobs', 'once.yml'), JOB);
    await writeFile(join(manifests, 'README.md'), 'not a manifest\n');
  });
  afterAll(async () => work?.cleanup());

  it('-o DIR: changed files rewritten, unchanged ones copied byte for byte, the tree kept; --json reports each image', async () => {
    const out = join(work.dir, 'out');
    const r = await ferry(['k8s', 'rewrite', '-f', manifests, '--registry', 'site.example:5000/mirror', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json as RewriteReport;
    expect(report).toMatchObject({ output: 'dir', changed: 2, unchanged: 1, images: 3, pinned: 0 });
    expect(await readFile(join(out, 'deploy.yaml'), 'utf8')).toBe(
      DEPLOY.replace('nginx:1.25', 'site.example:5000/mirror/library/nginx:1.25').replace('mcr.microsoft.com/windows', 'site.example:5000/mirror/windows'),
    );
    expect(await readFile(join(out, 'jobs', 'once.yml'), 'utf8')).toBe(JOB.replace('"busybox:1.36"', '"site.example:5000/mirror/library/busybox:1.36"'));
    expect(await readFile(join(out, 'service.yaml'), 'utf8')).toBe(SERVICE);
    await expect(stat(join(out, 'README.md'))).rejects.toThrow();
    const deploy = report.files.find((f) => f.path.endsWith('deploy.yaml'));
    expect(deploy?.changes.map((c) => [c.line, c.container, c.from, c.to])).toEqual([
      [11, 'web', 'nginx:1.25', 'site.example:5000/mirror/library/nginx:1.25'],
      [13, 'agent', 'mcr.microsoft.com/windows/servercore:ltsc2022', 'site.example:5000/mirror/windows/servercore:ltsc2022'],
    ]);
    // The sources are untouched.
    expect(await readFile(join(manifests, 'deploy.yaml'), 'utf8')).toBe(DEPLOY);
  });

  it('--pin-digests BUNDLE pins the digests import lands: the Windows image gets its localized digest, as the store shows after import', async () => {
    const store = join(work.dir, 'store');
    const imported = await ferry(['import', bundle, '--to-store', '--store', store, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const fromBundle = await ferry(['k8s', 'rewrite', '-f', join(manifests, 'deploy.yaml'), '--registry', 'site.example/mirror', '--pin-digests', bundle, '--json']);
    expect(fromBundle.code, fromBundle.stderr).toBe(0);
    const fromStore = await ferry(['k8s', 'rewrite', '-f', join(manifests, 'deploy.yaml'), '--registry', 'site.example/mirror', '--pin-digests-from-store', '--store', store, '--json']);
    expect(fromStore.code, fromStore.stderr).toBe(0);
    const pinned = (r: typeof fromBundle) => (r.json as RewriteReport).files[0]?.changes.map((c) => c.to);
    const windowsTo = pinned(fromBundle)?.[1] ?? '';
    expect(pinned(fromBundle)?.[0]).toBe(`site.example/mirror/library/nginx:1.25@${digests.nginx}`);
    expect(windowsTo).toMatch(/^site\.example\/mirror\/windows\/servercore:ltsc2022@sha256:[0-9a-f]{64}$/);
    expect(windowsTo).not.toContain(digests.windows);
    expect(pinned(fromStore)).toEqual(pinned(fromBundle));
    const importedWindows = (imported.json as { images: Array<{ source: string; digest: string }> }).images.find((i) => i.source.startsWith('mcr.microsoft.com'));
    expect(windowsTo.endsWith(`@${importedWindows?.digest ?? 'none'}`)).toBe(true);
    // With --foreign-layers preserve, the exported digest is kept.
    const preserved = await ferry(['k8s', 'rewrite', '-f', join(manifests, 'deploy.yaml'), '--registry', 'site.example/mirror', '--pin-digests', bundle, '--foreign-layers', 'preserve', '--json']);
    expect(pinned(preserved)?.[1]).toBe(`site.example/mirror/windows/servercore:ltsc2022@${digests.windows}`);
    // A preview writes nothing.
    expect(await readFile(join(manifests, 'deploy.yaml'), 'utf8')).toBe(DEPLOY);
  });

  it('--in-place rewrites changed files and does not touch unchanged ones; a second run changes nothing', async () => {
    const dir = join(work.dir, 'inplace');
    await mkdir(dir);
    await writeFile(join(dir, 'deploy.yaml'), DEPLOY, { mode: 0o640 });
    await writeFile(join(dir, 'service.yaml'), SERVICE);
    const before = await stat(join(dir, 'service.yaml'));
    await new Promise((r) => setTimeout(r, 20));
    const r = await ferry(['k8s', 'rewrite', '-f', dir, '--registry', 'site.example/mirror', '--in-place']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 image(s) in 1 file(s) rewritten');
    const after = await stat(join(dir, 'service.yaml'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect((await stat(join(dir, 'deploy.yaml'))).mode & 0o777).toBe(0o640);
    const rewritten = await readFile(join(dir, 'deploy.yaml'), 'utf8');
    expect(rewritten).toContain('image: site.example/mirror/library/nginx:1.25   # the front end');
    const again = await ferry(['k8s', 'rewrite', '-f', dir, '--registry', 'site.example/mirror', '--in-place', '--json']);
    expect(again.json).toMatchObject({ changed: 0, unchanged: 2, images: 0 });
    expect(await readFile(join(dir, 'deploy.yaml'), 'utf8')).toBe(rewritten);
  });

  it('--spec applies the retag rules of a spec, as ferry import -f does', async () => {
    const spec = new URL('../../bundles/azure-stack-hub-kubernetes.yaml', import.meta.url).pathname;
    const r = await ferry(['k8s', 'rewrite', '-f', join(manifests, 'deploy.yaml'), '--spec', spec, '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      DEPLOY.replace('nginx:1.25', 'myregistry.azsacr.local.azurestack.external/dockerhub/library/nginx:1.25').replace(
        'mcr.microsoft.com/windows',
        'myregistry.azsacr.local.azurestack.external/mcr/windows',
      ),
    );
  });

  it('-o - writes the rewritten stream to stdout for kubectl apply -f -', async () => {
    const r = await ferry(['k8s', 'rewrite', '-f', join(manifests, 'service.yaml'), '-f', join(manifests, 'jobs', 'once.yml'), '--registry', 'site.example/m', '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${SERVICE}---\n${JOB.replace('busybox:1.36', 'site.example/m/library/busybox:1.36')}`);
    expect(r.stderr).toContain('1 image(s) in 1 file(s) rewritten');
  });

  it('a file that is not valid YAML stops the run before anything is written (exit 2, file and line named)', async () => {
    const dir = join(work.dir, 'broken');
    await mkdir(dir);
    await writeFile(join(dir, 'a.yaml'), DEPLOY);
    await writeFile(join(dir, 'b.yaml'), 'kind: Pod\nspec:\n  containers: [\n');
    const r = await ferry(['k8s', 'rewrite', '-f', dir, '--registry', 'site.example/mirror', '--in-place']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/b\.yaml:\d+: not valid YAML/);
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe(DEPLOY);
  });

  it('refuses what cannot be right: a registry that is not a host, -o inside the input, flags of other actions', async () => {
    const notHost = await ferry(['k8s', 'rewrite', '-f', manifests, '--registry', 'site/mirror']);
    expect(notHost.code).toBe(2);
    expect(notHost.stderr).toContain("'site' does not look like a registry host");
    const inside = await ferry(['k8s', 'rewrite', '-f', manifests, '--registry', 'site.example', '-o', join(manifests, 'out')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain('inside the input directory');
    const wrongFlag = await ferry(['k8s', 'rewrite', '-f', manifests, '--registry', 'site.example', '--address', '/run/x.sock']);
    expect(wrongFlag.code).toBe(2);
    expect(wrongFlag.stderr).toContain('does not take --address');
  });
});
