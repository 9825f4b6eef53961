import { Readable } from 'node:stream';
import {
  MAX_MANIFEST_BYTES, isManifest, readCapped, validateTag, verifyBytes,
  type Descriptor, type FetchOptions, type PushOptions, type Repository,
} from '../../core/index.js';
import { blobExists, deleteBlob, openBlob } from './blobs.js';
import { deleteManifest, getManifest, headManifest, putManifest, type FetchedManifest } from './manifests.js';
import { pushBlob } from './push-blob.js';
import { listReferrers, type RemoteReferrersOptions } from './referrers.js';
import { where, type RepoContext } from './repo-context.js';
import { listTags, type ListOptions } from './tags.js';
import { initiateUpload, cancelUpload } from './upload-steps.js';

type Signal = { signal?: AbortSignal };

// One repository on a remote registry: a core Repository (source and target)
// plus mount, delete and manifest helpers. Each verb is a thin call into the
// resource file that implements it (manifests.ts, blobs.ts, push-blob.ts, …).

export class RemoteRepository implements Repository {
  readonly name: string;
  private readonly ctx: RepoContext;

  constructor(ctx: RepoContext) {
    this.ctx = ctx;
    this.name = ctx.name;
  }

  /** `registry/name`, for messages. */
  get describe(): string {
    return where(this.ctx);
  }

  /** A tag or digest → descriptor (HEAD with every manifest Accept type; GET when HEAD says too little). */
  async resolve(reference: string, options: Signal = {}): Promise<Descriptor> {
    const found = await headManifest(this.ctx, reference, options.signal);
    if (found) return found;
    // Let the GET produce the registry's own 404 (MANIFEST_UNKNOWN vs NAME_UNKNOWN).
    return (await getManifest(this.ctx, reference, options.signal)).descriptor;
  }

  /** A manifest's bytes and descriptor in one GET (digest computed and checked). */
  fetchManifest(reference: string, options: Signal = {}): Promise<FetchedManifest> {
    return getManifest(this.ctx, reference, options.signal);
  }

  /** Bytes of a manifest (from memory, ≤ 4 MiB) or a blob (streamed from `offset`). Not verified. */
  async fetch(desc: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    const offset = options.offset ?? 0;
    if (isManifest(desc.mediaType)) {
      const cached = this.ctx.manifests.get(this.name, desc.digest);
      const bytes = cached?.bytes ?? (await getManifest(this.ctx, desc.digest, options.signal)).bytes;
      return Readable.from([Buffer.from(bytes).subarray(offset)]);
    }
    return openBlob(this.ctx, desc, offset, options.signal);
  }

  referrers(subject: Descriptor, options: RemoteReferrersOptions = {}): AsyncIterable<Descriptor> {
    return listReferrers(this.ctx, subject, options);
  }

  tags(options: ListOptions = {}): AsyncIterable<string> {
    return listTags(this.ctx, options);
  }

  async exists(desc: Descriptor, options: Signal = {}): Promise<boolean> {
    if (isManifest(desc.mediaType)) return (await headManifest(this.ctx, desc.digest, options.signal)) !== undefined;
    return blobExists(this.ctx, desc.digest, options.signal);
  }

  /** Manifests (by media type) go to /manifests/ by digest; everything else is a blob upload. Both verified. */
  async push(desc: Descriptor, body: Readable, options: PushOptions = {}): Promise<void> {
    if (!isManifest(desc.mediaType)) return pushBlob(this.ctx, desc, body, options);
    const bytes = await this.manifestBytes(desc, body);
    await putManifest(this.ctx, desc.digest, desc.mediaType, bytes, options.signal);
    options.onEvent?.({ type: 'bytes', descriptor: desc, bytes: bytes.byteLength });
  }

  /**
   * One PUT by tag instead of a PUT by digest and another by tag. putManifest
   * refuses an answer whose Docker-Content-Digest is not the digest of our bytes.
   */
  async pushTagged(desc: Descriptor, body: Readable, tag: string, options: Signal = {}): Promise<void> {
    validateTag(tag);
    const bytes = await this.manifestBytes(desc, body);
    await putManifest(this.ctx, tag, desc.mediaType, bytes, options.signal);
  }

  /** A manifest body, capped and checked against its descriptor before it is sent. */
  private async manifestBytes(desc: Descriptor, body: Readable): Promise<Uint8Array> {
    const subject = where(this.ctx, `@${desc.digest}`);
    const bytes = await readCapped(body, MAX_MANIFEST_BYTES, subject);
    verifyBytes(bytes, desc, subject);
    return bytes;
  }

  /** PUTs the manifest's bytes under `tag` (from the recent-manifest cache; GET only when not there). */
  async tag(tag: string, desc: Descriptor, options: Signal = {}): Promise<void> {
    validateTag(tag);
    let entry = this.ctx.manifests.get(this.name, desc.digest);
    if (!entry) {
      const fetched = await getManifest(this.ctx, desc.digest, options.signal);
      entry = { mediaType: fetched.descriptor.mediaType, bytes: fetched.bytes };
    }
    await putManifest(this.ctx, tag, entry.mediaType, entry.bytes, options.signal);
  }

  /** Cross-repository mount: true when the registry linked the blob from `fromRepository` (201). */
  async mount(desc: Descriptor, fromRepository: string, options: Signal = {}): Promise<boolean> {
    const started = await initiateUpload(this.ctx, { digest: desc.digest, from: fromRepository }, options.signal);
    if (started.mounted) return true;
    // 202: the registry started an ordinary upload instead; we have no body here, so drop it.
    await cancelUpload(this.ctx, started.location);
    return false;
  }

  /** Deletes a manifest (by digest) or a blob. */
  async delete(desc: Descriptor, options: Signal = {}): Promise<void> {
    if (isManifest(desc.mediaType)) return deleteManifest(this.ctx, desc.digest, options.signal);
    return deleteBlob(this.ctx, desc.digest, options.signal);
  }
}
