import type { RetryHook } from '../registry/client/index.js';
import { StepTimer, type DemoEventSink, type StepRecord } from './demo-steps.js';
import type { ImageCheck } from './graph-check.js';
import { roundTrip, type BundleSummary, type Trip } from './round-trip.js';
import { openWorkDir } from './work-dir.js';

// `ferry demo`: the whole air-gap round trip on one machine, with nothing but
// ferry — sample images → embedded source registry → signed export → verify →
// import into a second embedded registry → every digest compared and every
// byte re-hashed on both sides. Everything lives in one work directory that is
// removed at the end (or kept with --keep); the user's store is never opened.

export interface DemoOptions {
  /** Keep everything in this (new or empty) directory instead of a removed temp dir. */
  keep?: string;
  /** Recorded in bundle.json. */
  toolVersion: string;
  onEvent?: DemoEventSink;
  /** Every retry of the demo's registry clients (the CLI's --debug and progress show them). */
  onRetry?: RetryHook;
  signal?: AbortSignal;
  /** Where the temp work dir goes (default: the OS temp dir). */
  tempRoot?: string;
}

export interface DemoReport {
  /** True only when every image arrived with every digest equal. */
  ok: boolean;
  steps: StepRecord[];
  totalMs: number;
  /** The work directory; it still exists only when `kept`. */
  dir: string;
  kept: boolean;
  samples: { images: Array<{ name: string; digest: string; platforms: string[] }>; blobs: number; bytes: number };
  registries: { source: string; target: string };
  bundle: BundleSummary;
  images: ImageCheck[];
}

/** Closes in reverse order of opening; returns the first failure instead of stopping at it. */
async function closeAll(closers: Array<() => Promise<void>>): Promise<unknown> {
  let first: unknown;
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch (err) {
      first ??= err;
    }
  }
  return first;
}

export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const timer = new StepTimer(opts.onEvent ?? (() => undefined));
  const started = Date.now();
  const work = await openWorkDir(opts.keep, opts.tempRoot);
  const closers: Array<() => Promise<void>> = [];
  let trip: Trip;
  try {
    trip = await roundTrip(work, opts, timer, closers);
  } catch (err) {
    // The failure is what the user needs to see; cleanup still happens, quietly.
    await closeAll(closers);
    await work.dispose().catch(() => undefined);
    throw err;
  }
  await timer.run('cleanup', async () => {
    const failed = await closeAll(closers);
    if (failed !== undefined) throw failed;
    await work.dispose();
    return { result: undefined, what: work.kept ? `servers stopped; everything kept in ${work.root}` : 'servers stopped, stores, keys and bundle removed with the temp directory' };
  });
  return {
    ok: trip.images.every((i) => i.equal),
    steps: timer.records,
    totalMs: Date.now() - started,
    dir: work.root,
    kept: work.kept,
    samples: {
      images: trip.samples.images.map((i) => ({ name: `${i.repository}:${i.tag}`, digest: i.root.digest, platforms: i.platforms })),
      blobs: trip.samples.blobs,
      bytes: trip.samples.bytes,
    },
    registries: { source: trip.source.url, target: trip.target.url },
    bundle: trip.bundle,
    images: trip.images,
  };
}
