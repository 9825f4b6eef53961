import type { Descriptor } from '../core/descriptor.js';
import { MediaType } from '../core/media-types.js';
import { formatPlatform, type Platform } from '../core/platform.js';
import { SampleLayout } from './sample-layout.js';
import { SAMPLE_MTIME, writeSampleLayer, type LayerFile, type SampleLayer } from './sample-layer.js';

// The demo's images, built in-process with no network: a multi-arch OCI index
// `demo/hello:1.0` (linux/amd64 + linux/arm64) and a single-platform
// `demo/tools:1.0`, all three platform images on one shared base layer — so
// the bundle shows deduplication (the base is carried once) and the check shows
// an index digest surviving the trip. About 2.5 MB in all, the same bytes on
// every run.

export interface SampleImage {
  repository: string;
  tag: string;
  root: Descriptor;
  /** os/arch of every platform image under the root. */
  platforms: string[];
}

export interface SampleSet {
  layout: SampleLayout;
  images: SampleImage[];
  /** Distinct blobs and their bytes (the shared base layer counted once). */
  blobs: number;
  bytes: number;
}

const CREATED = SAMPLE_MTIME.toISOString().replace('.000Z', 'Z');
const MiB = 1024 * 1024;

const BASE: LayerFile[] = [
  { path: 'etc/os-release', text: 'NAME="ferry demo"\nID=ferry-demo\nVERSION_ID=1\nPRETTY_NAME="ferry demo base (sample image, not an operating system)"\n' },
  { path: 'etc/motd', text: 'This image was built by `ferry demo` to show a round trip across an air gap.\n' },
  { path: 'usr/share/ferry-demo/base.bin', filler: { seed: 'base', size: 1 * MiB } },
];

function helloLayer(arch: string): LayerFile[] {
  return [
    { path: 'usr/bin/hello', mode: 0o755, text: `#!/bin/sh\necho "hello from ferry demo (linux/${arch})"\n` },
    { path: `usr/share/ferry-demo/hello-${arch}.bin`, filler: { seed: `hello-${arch}`, size: 384 * 1024 } },
  ];
}

const TOOLS: LayerFile[] = [
  { path: 'usr/bin/tools', mode: 0o755, text: '#!/bin/sh\necho "ferry demo tools: nothing to do"\n' },
  { path: 'usr/share/ferry-demo/tools.bin', filler: { seed: 'tools', size: 512 * 1024 } },
];

/** An OCI image config whose diff_ids name the uncompressed layers, as runtimes check them. */
function config(platform: Platform, cmd: string, layers: readonly SampleLayer[], history: readonly string[]): unknown {
  return {
    created: CREATED,
    architecture: platform.architecture,
    os: platform.os,
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: [cmd], Labels: { 'org.opencontainers.image.source': 'ferry demo' } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: history.map((created_by) => ({ created: CREATED, created_by })),
  };
}

async function platformImage(layout: SampleLayout, platform: Platform, cmd: string, layers: readonly SampleLayer[], history: readonly string[]): Promise<Descriptor> {
  const cfg = await layout.putJson(MediaType.ociConfig, config(platform, cmd, layers, history));
  return layout.putJson(MediaType.ociManifest, {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: cfg,
    layers: layers.map((l) => l.descriptor),
  });
}

/** Builds the sample images into an OCI layout at `dir` (created). */
export async function buildSampleImages(dir: string): Promise<SampleSet> {
  const layout = await SampleLayout.create(dir);
  const base = await writeSampleLayer(layout, BASE);
  const amd64: Platform = { os: 'linux', architecture: 'amd64' };
  const arm64: Platform = { os: 'linux', architecture: 'arm64' };

  const children: Descriptor[] = [];
  for (const platform of [amd64, arm64]) {
    const app = await writeSampleLayer(layout, helloLayer(platform.architecture));
    const manifest = await platformImage(layout, platform, '/usr/bin/hello', [base, app], ['ferry demo: base', `ferry demo: hello for ${platform.architecture}`]);
    children.push({ ...manifest, platform });
  }
  const hello = await layout.putJson(MediaType.ociIndex, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children });
  await layout.tag('demo/hello', '1.0', hello);

  const toolsLayer = await writeSampleLayer(layout, TOOLS);
  const tools = await platformImage(layout, amd64, '/usr/bin/tools', [base, toolsLayer], ['ferry demo: base', 'ferry demo: tools']);
  await layout.tag('demo/tools', '1.0', tools);

  return {
    layout,
    images: [
      { repository: 'demo/hello', tag: '1.0', root: hello, platforms: [amd64, arm64].map(formatPlatform) },
      { repository: 'demo/tools', tag: '1.0', root: tools, platforms: [formatPlatform(amd64)] },
    ],
    ...layout.stats(),
  };
}
