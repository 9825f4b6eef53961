import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { openBundle, type Bundle, type SignatureState, type TrustOptions } from '../bundle/index.js';
import { ErrorCode, IntegrityError, NotFoundError, UsageError, isFerryError } from '../core/errors.js';
import type { Platform } from '../core/platform.js';
import type { EventSink } from '../transfer/events.js';
import { checkReachable, ctrFailure, listImages, runCtr, startCtr, type CtrTarget } from './ctr.js';
import { writePreloadArchive } from './preload-archive.js';
import { planPreload, type PreloadPlan, type PreloadSelection } from './preload-plan.js';

// `ferry k8s preload`: a bundle's images into a node's containerd, so pods
// start with no registry at all. One pass over the bundle: its head is checked
// (signature → bundle.json → index.json, index.db) before ctr is started, then
// the selected blobs stream through the verifying reader into
// `ctr images import --no-unpack --all-platforms -`.
//
// --no-unpack: unpacking at import time would use ctr's default snapshotter
// (not necessarily the one CRI is configured with), fails for artifacts such
// as cosign signature tags and for other platforms' images (a Windows image on
// a Linux node). CRI unpacks an image with its own snapshotter when the first
// container needs it, so nothing is lost.

export const CRI_PINNED_LABEL = 'io.cri-containerd.pinned=pinned';

export interface PreloadOptions extends TrustOptions {
  bundle: string;
  target: CtrTarget;
  platforms?: readonly Platform[];
  rename?: PreloadSelection['rename'];
  /** Label images so kubelet's image GC keeps them (containerd ≥ 1.7 honours it). */
  pin?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface PreloadReport {
  bundle: { id: string; signature: SignatureState; keyId: string | null };
  address: string;
  namespace: string;
  dryRun: boolean;
  images: Array<{ name: string; source: string; digest: string; platforms: string[] }>;
  skipped: Array<{ name: string; reason: string }>;
  blobs: { count: number; bytes: number };
  pinned: boolean;
}

/** A delta bundle leaves out blobs the far side holds: containerd must, or its images would be incomplete. */
async function checkAssumed(target: CtrTarget, plan: PreloadPlan): Promise<void> {
  if (plan.assumed.length === 0) return;
  const held = new Set((await runCtr(target, ['content', 'ls', '-q'])).split('\n').map((l) => l.trim()));
  const missing = plan.assumed.filter((d) => !held.has(d));
  if (missing.length > 0) {
    throw new NotFoundError(`this delta bundle leaves out ${missing.length} blob(s) containerd at ${target.address} does not hold, e.g. ${missing[0]}`, {
      code: ErrorCode.blobUnknown,
      hint: 'preload the full bundle it was made against first',
    });
  }
}

/** Streams the selected images into ctr; on any failure ctr is stopped before it sees the end of the archive. */
async function importInto(target: CtrTarget, bundle: Bundle, plan: PreloadPlan, options: PreloadOptions): Promise<{ blobs: number; bytes: number }> {
  const args = ['images', 'import', '--no-unpack', '--all-platforms', '-'];
  const ctr = startCtr(target, args);
  const stop = () => ctr.kill();
  options.signal?.addEventListener('abort', stop, { once: true });
  const archive = pack();
  const piped = pipeline(archive, ctr.stdin).then(
    () => undefined,
    (err: unknown) => err,
  );
  const onEvent = options.onEvent;
  try {
    // The total is known before a byte moves: the bundle's index names every blob and its size.
    onEvent?.({ type: 'phase', phase: 'push', total: plan.bytes, items: plan.blobs.size - plan.assumed.length });
    const written = await writePreloadArchive(archive, plan.images, bundle.blobs(), plan.blobs, onEvent);
    const pipeError = await piped;
    const result = await ctr.done;
    if (result.code !== 0) throw ctrFailure(target, args, result);
    if (pipeError !== undefined) throw pipeError;
    return written;
  } catch (err) {
    stop();
    archive.destroy();
    const result = await ctr.done.catch(() => undefined);
    if (options.signal?.aborted) throw options.signal.reason;
    // Our own verdict (a damaged bundle, ctr's reported failure) explains more than a broken pipe.
    if (isFerryError(err)) throw await bundle.explain(err);
    if (result && result.code !== 0) throw ctrFailure(target, args, result);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

async function checkLanded(target: CtrTarget, plan: PreloadPlan): Promise<void> {
  const listed = await listImages(target);
  for (const image of plan.images) {
    const got = listed.get(image.name);
    if (got !== image.root.digest) {
      throw new IntegrityError(`containerd at ${target.address} shows ${image.name} as ${got ?? 'missing'} after the import, not ${image.root.digest}`, {
        subject: image.name,
        expected: image.root.digest,
        ...(got ? { actual: got } : {}),
      });
    }
  }
}

export async function preloadBundle(options: PreloadOptions): Promise<PreloadReport> {
  const bundle = await openBundle(options.bundle, { ...(options.key ? { key: options.key } : {}), ...(options.requireSignature ? { requireSignature: true } : {}), checkVolumes: true });
  try {
    const plan = planPreload(bundle.db, { platforms: options.platforms ?? [], ...(options.rename ? { rename: options.rename } : {}) });
    if (plan.images.length === 0) {
      throw new UsageError(`nothing to preload: no image of ${options.bundle} has a selected platform`, { hint: 'ferry inspect BUNDLE lists the platforms it carries' });
    }
    const report: PreloadReport = {
      bundle: { id: bundle.bundleJson.id, signature: bundle.signature, keyId: bundle.keyId },
      address: options.target.address,
      namespace: options.target.namespace,
      dryRun: Boolean(options.dryRun),
      images: plan.images.map((i) => ({ name: i.name, source: i.source, digest: i.root.digest, platforms: i.platforms })),
      skipped: plan.skipped,
      blobs: { count: plan.blobs.size - plan.assumed.length, bytes: plan.bytes },
      pinned: false,
    };
    if (options.dryRun) return report;
    await checkReachable(options.target);
    await checkAssumed(options.target, plan);
    const written = await importInto(options.target, bundle, plan, options);
    report.blobs = { count: written.blobs, bytes: written.bytes };
    await checkLanded(options.target, plan);
    if (options.pin) {
      for (const image of plan.images) await runCtr(options.target, ['images', 'label', image.name, CRI_PINNED_LABEL]);
      report.pinned = true;
    }
    return report;
  } finally {
    await bundle.close();
  }
}
