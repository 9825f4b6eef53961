import { finished, Readable } from 'node:stream';
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
// subtree. A slot bounds requests in flight: a node holds one only while it moves
// bytes, never while it waits for its children, so the walk cannot deadlock; a
// local target's steps (a store's lookups and commits, a blob's write after its
// download ended) and a manifest read from memory take no slot at all. Blobs
// waiting for a slot get it largest first (CopyScheduler.blobSlot).

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
  /**
   * Manifests the source holds in memory (a bundle's): such a manifest is read
   * before the target is asked, and one whose every child is `present` is put
   * without a HEAD. Putting a manifest the target holds costs the same one
   * request as asking and changes nothing.
   */
  inMemory?: (desc: Descriptor) => boolean;
  /**
   * Nodes the caller knows the target lacks (their repository was not there when the copy began): copied
   * without a HEAD. A node that landed since (another copy put it) is put again, which changes nothing.
   */
  absent?: (desc: Descriptor) => boolean;
  /** Manifests the caller has already seen on the target (an import's rerun asked about its roots): skipped without a HEAD. */
  held?: (desc: Descriptor) => boolean;
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
  // A local target's steps (store lookups, links, manifest commits) must not wait behind downloads for a slot.
  const targetStep = <T>(step: () => Promise<T>): Promise<T> => (target.local ? step() : limit(step));

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

  // One attempt at a blob: its download and its push. For a remote target the slot covers both (the
  // upload is a request too); for a local one it is the download's alone, let go once the body has ended
  // or failed: the store's write, fdatasync and group commit must not keep the next request waiting.
  const moveBlob = async (desc: Descriptor, offset: number): Promise<number> => {
    const fetch = () => source.fetch(desc, { offset, ...(signal ? { signal } : {}) });
    const pushBody = async (body: Readable): Promise<number> => {
      const counted = countingStream(body, desc, emit);
      await target.push(desc, counted.stream, { offset, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
        // A target that failed before reading the body leaves the source's request open: end it.
        body.destroy();
        throw err;
      });
      return counted.moved();
    };
    if (!target.local) return scheduler.blobSlot(desc.size, async () => pushBody(await fetch()));
    let pushed!: Promise<number>;
    await scheduler.blobSlot(desc.size, async () => {
      const body = await fetch();
      pushed = pushBody(body);
      await Promise.race([requestOver(body), pushed.then(noop, noop)]);
    });
    return pushed;
  };

  const copyBlob = async (desc: Descriptor): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const offset = target.resumeOffset ? await target.resumeOffset(desc) : 0;
        return await moveBlob(desc, offset);
      } catch (err) {
        // The wait before a retry holds a slot, as the attempt did: a failing source gets no more requests
        // meanwhile, and no more blobs wait at once than requests could be in flight.
        await limit(() => backOff(retry, err, attempt, `blob ${desc.digest}`, signal));
      }
    }
  };

  // A root whose graph is all in place goes up under its first tag in one request (pushTagged), not by
  // digest and then by tag: it is still the last thing pushed, so the tag names a complete graph.
  const pushTagged = target.pushTagged?.bind(target);
  const firstTag = new Map<string, string>();
  for (const root of roots) {
    const tag = root.tags?.[0];
    if (pushTagged && tag !== undefined && !firstTag.has(root.descriptor.digest)) firstTag.set(root.descriptor.digest, tag);
  }
  const taggedOnPush = new Set<string>();

  const pushManifest = async (desc: Descriptor, bytes: Buffer): Promise<void> => {
    const tag = firstTag.get(desc.digest);
    const opts = signal ? { signal } : {};
    if (tag !== undefined && pushTagged) {
      await targetStep(() => pushTagged(desc, Readable.from([bytes]), tag, opts));
      taggedOnPush.add(`${desc.digest}\0${tag}`);
    } else await targetStep(() => target.push(desc, Readable.from([bytes]), opts));
  };

  const present = options.present;
  const absent = options.absent ?? (() => false);
  const held = options.held ?? (() => false);
  const targetHas = (desc: Descriptor): Promise<boolean> =>
    held(desc) ? Promise.resolve(true) : absent(desc) ? Promise.resolve(false) : targetStep(() => target.exists(desc, signal ? { signal } : {}));
  const copyManifest = async (desc: Descriptor): Promise<NodeAction> => {
    // A manifest the source holds in memory is no request: read without a slot.
    const read = () => (source.fromMemory?.(desc) ? readManifest(source, desc, signal) : limit(() => readManifest(source, desc, signal)));
    let got = options.inMemory?.(desc) ? await read() : undefined;
    const inPlace = got !== undefined && present !== undefined && successorsOf(desc, got.manifest).every((c) => !isManifest(c.mediaType) && present(c));
    if (!inPlace && (await targetHas(desc))) return finish(desc, 'skipped', 0);
    emit({ type: 'node-start', descriptor: desc, repository });
    got ??= await read();
    await Promise.all(successorsOf(desc, got.manifest).map(copyNode));
    await pushManifest(desc, got.bytes);
    return finish(desc, 'copied', got.bytes.length);
  };

  const copyNode = (desc: Descriptor): Promise<NodeAction> =>
    scheduler.once(repository, desc.digest, async (elsewhere): Promise<NodeAction> => {
      signal?.throwIfAborted();
      if (isManifest(desc.mediaType)) return copyManifest(desc);
      // The same blob on its way into another repository: wait, then mount it from there.
      if (elsewhere) await elsewhere.catch(() => undefined);
      if (present?.(desc)) return finish(desc, 'skipped', 0);
      if (await targetHas(desc)) return finish(desc, 'skipped', 0);
      emit({ type: 'node-start', descriptor: desc, repository });
      if (await targetStep(() => tryMount(desc))) return finish(desc, 'mounted', 0);
      const moved = await copyBlob(desc);
      return finish(desc, 'copied', moved);
    });

  // A root the target already held is tagged with the bytes we hold (a bundle's head), not fetched back from
  // the target first: one request per tag on a re-import instead of a GET and a PUT.
  const tagRoot = async (tag: string, desc: Descriptor): Promise<void> => {
    const opts = signal ? { signal } : {};
    if (!pushTagged || !options.inMemory?.(desc)) return target.tag(tag, desc, opts);
    const { bytes } = await readManifest(source, desc, signal);
    return pushTagged(desc, Readable.from([bytes]), tag, opts);
  };
  await Promise.all(roots.map((root) => copyNode(root.descriptor)));
  for (const root of roots) {
    for (const tag of root.tags ?? []) {
      if (!taggedOnPush.has(`${root.descriptor.digest}\0${tag}`)) await targetStep(() => tagRoot(tag, root.descriptor));
      emit({ type: 'tagged', repository, tag, descriptor: root.descriptor });
    }
  }
  return report;
}

const noop = (): void => undefined;

/** Settles once a source's body has ended, failed or closed: its request is over. */
function requestOver(body: Readable): Promise<void> {
  return new Promise((resolve) => finished(body, { writable: false }, () => resolve()));
}
