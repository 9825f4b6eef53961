import { digestHex } from '../../src/core/digest.js';
import { BlobSet, type RigDescriptor } from './image-blobs.js';
import { addCosignSignature, addReferrersTagIndex, addSbomReferrer } from './image-artifacts.js';
import { addImage, addIndex } from './image-builder.js';
import type { RigImage, RigImageKey, RigImageSet } from './image-set.js';
import { buildLayer, pseudoRandomBytes, type BuiltLayer } from './layer-tar.js';

// The catalogue of test images (names under ferry-test/). Every layer is
// reproducible; only the Windows manifest (and so its digest) changes with the
// foreign server's port, because the layer URL is part of it.

export interface BuiltTestImages {
  readonly set: RigImageSet;
  /** The bytes of every blob and manifest, the foreign layer included. */
  readonly blobs: BlobSet;
}

export interface TestImageOptions {
  /** e.g. http://127.0.0.1:PORT — foreign layer URLs are `${base}/layers/sha256/<hex>`. */
  readonly foreignBaseUrl: string;
}

const KiB = 1024;

export async function buildTestImages(opts: TestImageOptions): Promise<BuiltTestImages> {
  const blobs = new BlobSet();
  const base = await buildLayer([
    { path: 'etc/os-release', content: 'NAME="ferry-test"\nID=ferry-test\nVERSION_ID=1\n' },
    { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { path: 'usr/lib/ferry-test/base.bin', content: pseudoRandomBytes('base', 384 * KiB) },
  ]);
  const appLayer = (name: string, size: number): Promise<BuiltLayer> =>
    buildLayer([
      { path: `app/${name}.txt`, content: `ferry-test ${name}\n` },
      { path: `app/${name}.bin`, content: pseudoRandomBytes(name, size) },
      { path: `app/run-${name}`, content: `#!/bin/sh\necho ${name}\n`, mode: 0o755 },
    ]);
  const app = (name: string, layer: BuiltLayer): RigDescriptor =>
    addImage(blobs, {
      flavour: 'oci',
      platform: { os: 'linux', architecture: 'amd64' },
      layers: [
        { layer: base, createdBy: 'ADD base.tar /' },
        { layer, createdBy: `COPY ${name} /app/` },
      ],
      cmd: [`/app/run-${name}`],
    });
  const appA = app('a', await appLayer('a', 128 * KiB));
  const appB = app('b', await appLayer('b', 64 * KiB));

  const perArch = async (architecture: string, variant?: string): Promise<RigDescriptor> =>
    addImage(blobs, {
      flavour: 'oci',
      platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
      layers: [{ layer: await appLayer(`multi-${architecture}`, 32 * KiB), createdBy: `ADD rootfs-${architecture}.tar /` }],
      cmd: [`/app/run-multi-${architecture}`],
    });
  const multi = addIndex(blobs, 'oci', [await perArch('amd64'), await perArch('arm64', 'v8')]);

  const docker = addImage(blobs, {
    flavour: 'docker',
    platform: { os: 'linux', architecture: 'amd64' },
    layers: [{ layer: await appLayer('docker', 16 * KiB), createdBy: 'ADD docker.tar /' }],
    cmd: ['/app/run-docker'],
  });

  // Windows base layers are foreign: MCR lists them with `urls` and does not serve them.
  const windowsBase = await buildLayer([
    { path: 'Files/Windows/System32/ferry-test.dll', content: pseudoRandomBytes('windows-base', 96 * KiB) },
    { path: 'Hives/DefaultUser_Delta', content: 'ferry-test hive\n' },
  ]);
  const foreignUrl = `${opts.foreignBaseUrl}/layers/sha256/${digestHex(windowsBase.digest)}`;
  const windowsApp = await buildLayer([{ path: 'Files/app/ferry-test.exe', content: pseudoRandomBytes('windows-app', 8 * KiB) }]);
  const windows = addImage(blobs, {
    flavour: 'docker',
    platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1234' },
    layers: [
      { layer: windowsBase, createdBy: 'Apply image 10.0.20348.1234', foreignUrls: [foreignUrl] },
      { layer: windowsApp, createdBy: 'COPY ferry-test.exe C:\\app\\' },
    ],
    cmd: ['C:\\app\\ferry-test.exe'],
  });

  const sbom = addSbomReferrer(blobs, appA, 'ferry-test/app-a:1.0');
  const referrersIndex = addReferrersTagIndex(blobs, [sbom]);
  const signature = addCosignSignature(blobs, appA, 'ferry-test/app-a');
  const subjectTag = `sha256-${digestHex(appA.digest)}`;

  const describe = (
    key: RigImageKey,
    repository: string,
    tag: string | undefined,
    root: RigDescriptor,
    subject?: RigDescriptor,
  ): RigImage => {
    const { manifests, blobs: graphBlobs } = blobs.graph(root);
    const platforms = manifests.flatMap((m) => (m.platform ? [platformString(m.platform)] : []));
    return {
      key,
      repository,
      ...(tag !== undefined ? { tag } : {}),
      reference: tag !== undefined ? `${repository}:${tag}` : `${repository}@${root.digest}`,
      digest: root.digest,
      mediaType: root.mediaType,
      size: root.size,
      ...(root.artifactType ? { artifactType: root.artifactType } : {}),
      ...(subject ? { subject: subject.digest } : {}),
      manifests,
      blobs: graphBlobs,
      platforms,
    };
  };
  const images: Record<RigImageKey, RigImage> = {
    multi: describe('multi', 'ferry-test/multi', '1.0', multi),
    docker: describe('docker', 'ferry-test/docker', '1.0', docker),
    appA: describe('appA', 'ferry-test/app-a', '1.0', appA),
    appB: describe('appB', 'ferry-test/app-b', '1.0', appB),
    windows: describe('windows', 'ferry-test/windows', 'ltsc2022', windows),
    sbom: describe('sbom', 'ferry-test/app-a', undefined, sbom, appA),
    referrersIndex: describe('referrersIndex', 'ferry-test/app-a', subjectTag, referrersIndex, appA),
    signature: describe('signature', 'ferry-test/app-a', `${subjectTag}.sig`, signature, appA),
  };
  const foreignLayer = images.windows.blobs.find((b) => b.urls !== undefined);
  if (!foreignLayer) throw new Error('windows image lost its foreign layer');
  return { set: { images, foreignLayer: { ...foreignLayer, url: foreignUrl } }, blobs };
}

function platformString(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}
