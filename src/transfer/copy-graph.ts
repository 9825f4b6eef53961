import { Readable } from 'node:stream';
import type { ContentSource, ContentTarget } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { successors as manifestSuccessors, type Manifest } from '../core/manifest.js';
import { isManifest } from '../core/media-types.js';
import { countingStream } from './counting-stream.js';
import { emptyReport, recordNode, type CopyReport } from './copy-report.js';
import { CopyScheduler } from './copy-scheduler.js';
import { noEvents, type EventSink, type NodeAction } from './events.js';
import { readManifest } from './read-manifest.js';
import { backOff, DEFAULT_RETRY_SETTINGS, type RetrySettings } from '../registry/client/index.js';

// copyGraph: copy everything under some roots from a source to a target (oras
// CopyGraph). Children before parents, so a manifest lands only once all it
// names is in place; tags last. A node the target already has prunes its whole
// subtree. A node holds a concurrency slot only while it moves bytes, never while
// it waits for its children, so the walk cannot deadlock.

export interface CopyRoot {
  descriptor: Descriptor;
  /** Tags to point at the root once the whole graph is in the target. */
  tags?: string[];
}

export type SuccessorsFn = (desc: Descriptor, manifest: Manifest) => Descriptor[];

export interface CopyGraphOptions {
  /** Shared by copies that together stay within one request bound and move each node once (default: a fresh one). */
  scheduler?: CopyScheduler;
  signal?: AbortSignal;
  onEvent?: EventSink;
  /** The children to copy before a manifest (default: config + layers, or an index's manifests). */
  successors?: SuccessorsFn;
  /**
   * Retries of a whole blob, each resuming from what the target holds: the
   * budget and report of the client involved (`client.retry`). A failure the
   * client already retried to the end is not retried again here.
   */
  retry?: RetrySettings;
  /** Repositories that may hold a blob already, for cross-repository mounts. */
  mountCandidates?: (desc: Descriptor) => string[];
  /** Names the target repository in events. */
  repository?: string;
  /** Blobs the caller knows the target holds (it just put them there): skipped without a HEAD. */
  present?: (desc: Descriptor) => boolean;
}

export async function copyGraph(source: ContentSource, target: ContentTarget, roots: CopyRoot[], options: CopyGraphOptions = {}): Promise<CopyReport> {
  const scheduler = options.scheduler ?? new CopyScheduler();
  const limit = scheduler.limit;
  const emit = options.onEvent ?? noEvents;
  const signal = options.signal;
  const repository = options.repository ?? '';
  const successorsOf = options.successors ?? ((_d: Descriptor, m: Manifest) => manifestSuccessors(m));
  const retry = options.retry ?? DEFAULT_RETRY_SETTINGS;
  const report = emptyReport();

  const finish = (desc: Descriptor, action: NodeAction, bytes: number): NodeAction => {
    recordNode(report, desc, action, bytes);
    emit({ type: 'node-done', descriptor: desc, repository, action, bytes });
    return action;
  };

  const tryMount = async (desc: Descriptor): Promise<boolean> => {
    if (!target.mount || !options.mountCandidates) return false;
    for (const from of options.mountCandidates(desc)) {
      if (from !== repository && (await target.mount(desc, from, signal ? { signal } : {}))) return true;
    }
    return false;
  };

  const copyBlob = async (desc: Descriptor): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const offset = target.resumeOffset ? await target.resumeOffset(desc) : 0;
        const body = await source.fetch(desc, { offset, ...(signal ? { signal } : {}) });
        const counted = countingStream(body, desc, emit);
        await target.push(desc, counted.stream, { offset, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
          // A target that failed before reading the body leaves the source's request open: end it.
          body.destroy();
          throw err;
        });
        return counted.moved();
      } catch (err) {
        await backOff(retry, err, attempt, `blob ${desc.digest}`, signal);
      }
    }
  };

  const copyNode = (desc: Descriptor): Promise<NodeAction> =>
    scheduler.once(repository, desc.digest, async (elsewhere): Promise<NodeAction> => {
      signal?.throwIfAborted();
      // The same blob on its way into another repository: wait, then mount it from there.
      if (elsewhere && !isManifest(desc.mediaType)) await elsewhere.catch(() => undefined);
      if (!isManifest(desc.mediaType) && options.present?.(desc)) return finish(desc, 'skipped', 0);
      if (await limit(() => target.exists(desc, signal ? { signal } : {}))) return finish(desc, 'skipped', 0);
      emit({ type: 'node-start', descriptor: desc, repository });
      if (isManifest(desc.mediaType)) {
        const { bytes, manifest } = await limit(() => readManifest(source, desc, signal));
        await Promise.all(successorsOf(desc, manifest).map(copyNode));
        await limit(() => target.push(desc, Readable.from([bytes]), signal ? { signal } : {}));
        return finish(desc, 'copied', bytes.length);
      }
      if (await limit(() => tryMount(desc))) return finish(desc, 'mounted', 0);
      const moved = await limit(() => copyBlob(desc));
      return finish(desc, 'copied', moved);
    });

  await Promise.all(roots.map((root) => copyNode(root.descriptor)));
  for (const root of roots) {
    for (const tag of root.tags ?? []) {
      await limit(() => target.tag(tag, root.descriptor, signal ? { signal } : {}));
      emit({ type: 'tagged', repository, tag, descriptor: root.descriptor });
    }
  }
  return report;
}
