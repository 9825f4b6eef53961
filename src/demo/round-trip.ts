import { readPrivateKeyFile, readPublicKeyFile, verifyBundle, writeKeyPair, type SignatureState } from '../bundle/index.js';
import { parseReference } from '../core/reference.js';
import type { RetryHook } from '../registry/client/index.js';
import { openStore, type Store } from '../store/index.js';
import { copyGraph } from '../transfer/copy-graph.js';
import { exportImages } from '../transfer/export.js';
import { importBundle } from '../transfer/import.js';
import { RegistryPool } from '../transfer/registry-pool.js';
import { parseDestination } from '../transfer/retag.js';
import { formatBytes } from '../core/format-bytes.js';
import type { StepTimer } from './demo-steps.js';
import { startEmbeddedRegistry, type EmbeddedRegistry } from './embedded-registry.js';
import { checkImage, type ImageCheck } from './graph-check.js';
import { buildSampleImages, type SampleSet } from './sample-images.js';
import type { WorkDir } from './work-dir.js';

// The steps of the demo, in order, each timed by the StepTimer: samples, the
// source registry and the push into it, a key pair, export, verify, the target
// registry, import, and the check. Everything opened is registered in
// `closers` at once, so the caller can shut it down whatever step failed.

export interface TripOptions {
  toolVersion: string;
  onRetry?: RetryHook;
  signal?: AbortSignal;
}

export interface BundleSummary {
  file: string;
  id: string;
  bytes: number;
  blobs: number;
  keyId: string | null;
  signature: SignatureState;
}

/** Where the target registry puts imported images: --to HOST/PREFIX keeps paths and tags under it. */
const TARGET_PREFIX = 'mirror';

export interface Trip {
  samples: SampleSet;
  source: EmbeddedRegistry;
  target: EmbeddedRegistry;
  bundle: BundleSummary;
  images: ImageCheck[];
}

export async function roundTrip(work: WorkDir, opts: TripOptions, timer: StepTimer, closers: Array<() => Promise<void>>): Promise<Trip> {
  const signal = opts.signal;
  const sig = signal ? { signal } : {};
  // Hermetic clients: no credentials from the user's environment or ~/.docker.
  const clientBase = { plainHttp: true, env: {}, homeDir: work.path('home'), ...sig, ...(opts.onRetry ? { onRetry: opts.onRetry } : {}) };
  const pool = new RegistryPool(clientBase);
  closers.push(() => pool.close());

  const samples = await timer.run('samples', async () => {
    const set = await buildSampleImages(work.path('samples'));
    const names = set.images.map((i) => `${i.repository}:${i.tag} (${i.platforms.join(', ')})`).join(' and ');
    return { result: set, what: `built ${names}: ${set.blobs} blobs, ${formatBytes(set.bytes)}, one base layer shared` };
  });

  const source = await timer.run('source-registry', async () => {
    const registry = await startEmbeddedRegistry(work.path('source-store'));
    closers.push(() => registry.close());
    return { result: registry, what: `ferry's embedded registry on a temp store at ${registry.url}` };
  });

  await timer.run('push', async () => {
    let copied = 0;
    let mounted = 0;
    let bytes = 0;
    const pushed: string[] = [];
    for (const image of samples.images) {
      const repo = pool.client(source.address).repository(image.repository);
      const r = await copyGraph(samples.layout.source(image.repository), repo, [{ descriptor: image.root, tags: [image.tag] }], {
        repository: image.repository,
        // The shared base layer is linked from the repository that already has it, not sent again.
        mountCandidates: () => [...pushed],
        onEvent: timer.transfers('push'),
        ...sig,
      });
      pushed.push(image.repository);
      copied += r.copied;
      mounted += r.mounted;
      bytes += r.bytesTransferred;
    }
    const what = `pushed ${samples.images.length} images with ferry's registry client: ${copied} manifests and blobs (${formatBytes(bytes)}), ${mounted} shared layer mounted, not re-sent`;
    return { result: undefined, what };
  });

  const keys = await timer.run('keygen', async () => {
    const files = await writeKeyPair(work.path('demo'));
    const pair = { privateKeyPem: await readPrivateKeyFile(files.privateKeyPath), publicKeyPem: await readPublicKeyFile(files.publicKeyPath), keyId: files.keyId };
    return { result: pair, what: `Ed25519 key pair demo.key + demo.pub (key id ${files.keyId})` };
  });

  const bundleFile = work.path('demo.tar');
  const exportStore: Store = await openStore(work.path('export-store'), { create: true });
  closers.push(() => exportStore.close());
  await timer.run('export', async () => {
    const report = await exportImages({
      images: samples.images.map((i) => ({ reference: parseReference(`${source.address}/${i.repository}:${i.tag}`), platforms: [], withReferrers: true })),
      registries: pool,
      store: exportStore,
      output: bundleFile,
      signingKey: keys.privateKeyPem,
      toolVersion: opts.toolVersion,
      onEvent: timer.transfers('export'),
      ...sig,
    });
    const b = report.bundle;
    return { result: undefined, what: `pulled into a staging store, wrote demo.tar: ${b.bundleJson.blobs.count} blobs (shared ones once), ${formatBytes(b.bytes)}, signed by ${b.keyId}` };
  });

  const bundle = await timer.run('verify', async () => {
    const v = await verifyBundle(bundleFile, { key: keys.publicKeyPem, requireSignature: true, tempDir: work.root });
    const result: BundleSummary = { file: bundleFile, id: v.id, bytes: v.bytesRead, blobs: v.blobs, keyId: v.keyId, signature: v.signature };
    return { result, what: `signature ${v.signature}; ${v.blobs} blobs, ${formatBytes(v.blobBytes)} re-hashed against the signed index` };
  });

  const target = await timer.run('target-registry', async () => {
    const registry = await startEmbeddedRegistry(work.path('target-store'));
    closers.push(() => registry.close());
    return { result: registry, what: `a second embedded registry on its own temp store at ${registry.url}` };
  });

  await timer.run('import', async () => {
    const report = await importBundle({
      bundle: bundleFile,
      key: keys.publicKeyPem,
      requireSignature: true,
      destinations: { kind: 'registry', destination: parseDestination(`${target.address}/${TARGET_PREFIX}`), rules: [] },
      registries: pool,
      store: exportStore,
      onEvent: timer.transfers('import'),
      ...sig,
    });
    return {
      result: undefined,
      what: `verified while streaming; pushed ${report.blobs.pushed} blobs (${formatBytes(report.blobs.bytes)}), mounted ${report.blobs.mounted}, then ${report.images.length} images under ${target.address}/${TARGET_PREFIX}/, tags last`,
    };
  });

  const images = await timer.run('check', async () => {
    // Fresh clients: nothing answered from the transfer's manifest cache.
    const fresh = new RegistryPool(clientBase);
    try {
      const checks: ImageCheck[] = [];
      for (const image of samples.images) {
        const targetName = `${TARGET_PREFIX}/${image.repository}`;
        checks.push(
          await checkImage(
            image.root,
            { repo: fresh.client(source.address).repository(image.repository), name: `${source.address}/${image.repository}` },
            { repo: fresh.client(target.address).repository(targetName), name: `${target.address}/${targetName}` },
            image.tag,
            signal,
          ),
        );
      }
      const bad = checks.filter((c) => !c.equal);
      const nodes = checks.reduce((n, c) => n + c.nodes, 0);
      const what = bad.length === 0 ? `every digest equal on both registries: ${checks.length} images, ${nodes} manifests and blobs re-hashed on each side` : `MISMATCH: ${bad.map((c) => `${c.target}: ${c.problem}`).join('; ')}`;
      return { result: checks, what };
    } finally {
      await fresh.close();
    }
  });

  return { samples, source, target, bundle, images };
}
