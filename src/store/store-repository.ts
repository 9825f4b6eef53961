import type { Readable } from 'node:stream';
import {
  ErrorCode,
  MAX_MANIFEST_BYTES,
  NotFoundError,
  isManifest,
  parseDigest,
  parseManifest,
  readCapped,
  validateRepository,
  validateTag,
  verifyBytes,
  type Descriptor,
  type Digest,
  type FetchOptions,
  type PushOptions,
  type ReferrersOptions,
  type Repository,
} from '../core/index.js';
import type { BlobReader } from './blob-reader.js';
import { commitBytes } from './commit.js';
import type { StoredBlob } from './db/blobs.js';
import type { StoredManifest } from './db/manifests.js';
import type { Page, PageOptions } from './db/repositories.js';
import type { Ingester } from './ingester.js';
import { manifestRecord, missingChildren, requireChildren } from './manifest-record.js';
import type { StoreContext } from './store-context.js';
import { resumeOffsetOf, skipBytes, writeBlob, type BlobSource, type WriteResult } from './write-blob.js';

export interface StorePushOptions extends PushOptions {
  /**
   * Read and verify the body even when the store already holds the blob in another
   * repository, before linking it here. The embedded registry sets this for
   * untrusted clients (a digest alone must not grant access to another repository's
   * blob); ferry's own transfers leave it off and skip the bytes they already have.
   */
  verifyExisting?: boolean;
}

/**
 * One repository of the store, as a ContentSource and ContentTarget (core Repository).
 * A blob or manifest is visible here only if it is linked here (distribution's
 * linkedblobstore): the store holds each blob once, repositories hold links.
 */
export class StoreRepository implements Repository {
  readonly name: string;
  readonly local = true;
  private readonly ctx: StoreContext;
  private readonly ingester: Ingester;
  private readonly reader: BlobReader;

  constructor(ctx: StoreContext, ingester: Ingester, reader: BlobReader, name: string) {
    this.name = validateRepository(name);
    this.ctx = ctx;
    this.ingester = ingester;
    this.reader = reader;
  }

  private get repoId(): number | undefined {
    return this.ctx.index.repos.id(this.name);
  }

  private holds(repoId: number | undefined, digest: Digest): boolean {
    return repoId !== undefined && this.ctx.index.repos.isLinked(repoId, digest) && this.ctx.index.blobs.get(digest) !== undefined;
  }

  private notFound(digest: Digest, manifest: boolean): NotFoundError {
    const what = manifest ? 'manifest' : 'blob';
    return new NotFoundError(`${what} ${digest} is not in repository ${this.name} of the store`, {
      code: manifest ? ErrorCode.manifestUnknown : ErrorCode.blobUnknown,
    });
  }

  /** Links `digest` here (and touches it) inside the caller's transaction. */
  private linkHere(digest: Digest): void {
    const now = this.ctx.clock();
    this.ctx.index.repos.link(this.ctx.index.repos.ensure(this.name, now), digest, now);
    this.ctx.index.blobs.touch(digest, now);
  }

  /** A tag or a digest → the manifest it names in this repository. */
  async resolve(reference: string): Promise<Descriptor> {
    const repoId = this.repoId;
    let digest: Digest | undefined;
    if (reference.includes(':')) digest = parseDigest(reference);
    else digest = repoId === undefined ? undefined : this.ctx.index.repos.getTag(repoId, validateTag(reference));
    const manifest = digest === undefined ? undefined : this.manifestRow(repoId, digest);
    if (!digest || !manifest) {
      throw new NotFoundError(`${this.name}:${reference} is not in the store`, { code: ErrorCode.manifestUnknown });
    }
    return { mediaType: manifest.mediaType, digest, size: this.reader.stat(digest).size };
  }

  /** The digest a tag names, even when its manifest is not (or no longer) held here: resolve() answers only for complete content. */
  tagged(tag: string): Digest | undefined {
    const repoId = this.repoId;
    return repoId === undefined ? undefined : this.ctx.index.repos.getTag(repoId, validateTag(tag));
  }

  private manifestRow(repoId: number | undefined, digest: Digest): StoredManifest | undefined {
    return this.holds(repoId, digest) ? this.ctx.index.manifests.get(digest) : undefined;
  }

  /** The bytes of a linked blob or manifest, from `offset`. */
  async fetch(desc: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    if (!this.holds(this.repoId, desc.digest)) throw this.notFound(desc.digest, isManifest(desc.mediaType));
    return this.reader.open(desc.digest, { start: options.offset ?? 0 });
  }

  /** Linked here and committed. A hit refreshes the blob's GC grace window (a push usually follows). */
  async exists(desc: Descriptor): Promise<boolean> {
    // Touch first, then look: a GC sweep either ran before (and the answer is false)
    // or comes after and finds the blob inside its grace window. No lock needed.
    if (!this.ctx.readOnly) {
      const now = this.ctx.clock();
      this.ctx.index.blobs.touch(desc.digest, now, now - this.ctx.touchIntervalMs);
    }
    return this.holds(this.repoId, desc.digest);
  }

  /** Size and media type of something linked here; NotFoundError otherwise. */
  stat(digest: Digest): StoredBlob {
    if (!this.holds(this.repoId, digest)) throw this.notFound(digest, false);
    return this.reader.stat(digest);
  }

  /**
   * Stores `body` as `desc` and links it here. A manifest (by media type) is read
   * through the 4 MiB cap, verified, parsed and recorded with its graph edges in
   * one transaction, and refused (NotFoundError, ERR_BLOB_UNKNOWN) unless every
   * child it needs is already linked here; anything else is ingested (resumable;
   * up to SMALL_BLOB_BYTES written whole) and committed.
   */
  async push(desc: Descriptor, body: Readable, options: StorePushOptions = {}): Promise<void> {
    if (isManifest(desc.mediaType)) await this.pushManifest(desc, body, options);
    else await this.pushBlob(desc, options.offset ? bodyFrom(body, options.offset, `${this.name}@${desc.digest}`) : body, options);
  }

  private async pushManifest(desc: Descriptor, body: Readable, options: PushOptions): Promise<void> {
    const subject = `${this.name}@${desc.digest}`;
    const bytes = await readCapped(body, MAX_MANIFEST_BYTES, subject);
    options.onEvent?.({ type: 'bytes', descriptor: desc, bytes: bytes.length });
    verifyBytes(bytes, desc, subject);
    const manifest = parseManifest(bytes, desc.mediaType, subject);
    const record = manifestRecord(desc, manifest);
    await commitBytes(this.ctx, bytes, desc, subject, {
      check: () => requireChildren(this.ctx, this.repoId, manifest, subject),
      inTransaction: () => {
        this.ctx.index.manifests.record(record, this.ctx.clock());
        this.linkHere(desc.digest);
      },
    });
  }

  private async pushBlob(desc: Descriptor, body: BlobSource, options: StorePushOptions): Promise<WriteResult> {
    this.ctx.index.blobs.touch(desc.digest, this.ctx.clock()); // before the check, as in exists()
    if (this.holds(this.repoId, desc.digest)) {
      if (typeof body !== 'function') body.destroy();
      return { written: 0, resumedFrom: 0, existed: true };
    }
    return writeBlob(this.ctx, this.ingester, desc, body, {
      // Scoped to the repository: a resumed prefix must have been written for this repository.
      ref: `${this.name}@${desc.digest}`,
      verifyExisting: options.verifyExisting ?? false,
      inTransaction: () => this.linkHere(desc.digest),
      signal: options.signal,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  }

  /**
   * Pushes a blob whose source can start at an offset: after an interrupted run
   * the source is opened at `resumeOffset(desc)` and only the rest is read.
   */
  async pushResumable(desc: Descriptor, source: BlobSource, options: StorePushOptions = {}): Promise<WriteResult> {
    return this.pushBlob(desc, source, options);
  }

  /**
   * Bytes already held for an interrupted push of `desc` into this repository. A
   * partial that holds the whole blob is settled first: committed and linked here
   * (the answer is the size: nothing left to fetch), or dropped when its bytes are
   * wrong (0: fetch it all again).
   */
  async resumeOffset(desc: Descriptor): Promise<number> {
    const ref = `${this.name}@${desc.digest}`;
    return resumeOffsetOf(this.ctx, this.ingester, desc, { ref, inTransaction: () => this.linkHere(desc.digest) });
  }

  /** Points `tag` at a manifest linked here. */
  async tag(tag: string, desc: Descriptor): Promise<void> {
    validateTag(tag);
    this.ctx.index.immediate(() => {
      const repoId = this.repoId;
      if (repoId === undefined || !this.manifestRow(repoId, desc.digest)) throw this.notFound(desc.digest, true);
      const now = this.ctx.clock();
      this.ctx.index.repos.setTag(repoId, tag, desc.digest, now);
      this.ctx.index.blobs.touch(desc.digest, now);
    });
  }

  /** Removes a tag; the manifest stays (GC or prune decide its fate). */
  async untag(tag: string): Promise<boolean> {
    const repoId = this.repoId;
    return repoId !== undefined && this.ctx.index.repos.deleteTag(repoId, validateTag(tag));
  }

  /** Links a blob that `fromRepository` holds; false when it does not. No bytes move. */
  async mount(desc: Descriptor, fromRepository: string): Promise<boolean> {
    validateRepository(fromRepository);
    return this.ctx.index.immediate(() => {
      if (!this.holds(this.ctx.index.repos.id(fromRepository), desc.digest)) return false;
      this.linkHere(desc.digest);
      return true;
    });
  }

  /** Manifests linked here whose subject is `subject`, optionally of one artifact type. */
  async *referrers(subject: Descriptor, options: ReferrersOptions = {}): AsyncIterable<Descriptor> {
    const repoId = this.repoId;
    if (repoId === undefined) return;
    for (const m of this.ctx.index.manifests.referrers(subject.digest, repoId)) {
      if (options.artifactType !== undefined && m.artifactType !== options.artifactType) continue;
      const desc: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
      if (m.artifactType !== undefined) desc.artifactType = m.artifactType;
      if (m.annotations !== undefined) desc.annotations = m.annotations;
      yield desc;
    }
  }

  /** Every tag, sorted. */
  async *tags(): AsyncIterable<string> {
    for (let last: string | undefined; ; ) {
      const page = this.listTags({ last, n: 1000 });
      yield* page.items;
      if (page.next === undefined) return;
      last = page.next;
    }
  }

  /** Tags sorted lexically, paginated (`last`, `n`) as the registry API pages them. */
  listTags(options: PageOptions = {}): Page<string> {
    const repoId = this.repoId;
    if (repoId === undefined) return { items: [], next: undefined };
    return this.ctx.index.repos.listTags(repoId, options);
  }

  /** The children a manifest needs that this repository lacks (for MANIFEST_BLOB_UNKNOWN). `bytes` are parsed, bounded. */
  missingChildren(desc: Descriptor, bytes: Uint8Array): Descriptor[] {
    return missingChildren(this.ctx, this.repoId, parseManifest(bytes, desc.mediaType, `${this.name}@${desc.digest}`));
  }

  /** The index's view of a manifest linked here. */
  manifest(digest: Digest): StoredManifest {
    const m = this.manifestRow(this.repoId, digest);
    if (!m) throw this.notFound(digest, true);
    return m;
  }

  /** Unlinks a manifest from this repository and drops the tags here that point at it. */
  async deleteManifest(digest: Digest): Promise<boolean> {
    return this.ctx.index.immediate(() => {
      const repoId = this.repoId;
      if (repoId === undefined || !this.manifestRow(repoId, digest)) return false;
      this.ctx.index.repos.deleteTagsOf(repoId, digest);
      return this.ctx.index.repos.unlink(repoId, digest);
    });
  }

  /** Unlinks a blob from this repository (a manifest also loses its tags here). The bytes stay until GC. */
  async unlinkBlob(digest: Digest): Promise<boolean> {
    if (this.ctx.index.manifests.get(digest)) return this.deleteManifest(digest);
    const repoId = this.repoId;
    return repoId !== undefined && this.ctx.index.repos.unlink(repoId, digest);
  }
}

/**
 * A body that starts at `offset` (the caller asked resumeOffset and fetched with
 * Range) as a source the ingest opens at its own offset. They agree unless the
 * partial changed in between; then the bytes are skipped, or the gap is refused
 * so the caller retries from the new offset.
 */
function bodyFrom(body: Readable, offset: number, subject: string): BlobSource {
  return async (resumedFrom: number) => {
    if (resumedFrom === offset) return body;
    if (resumedFrom > offset) {
      const skipper = skipBytes(resumedFrom - offset);
      body.on('error', (err) => skipper.destroy(err));
      return body.pipe(skipper);
    }
    body.destroy();
    throw Object.assign(new Error(`${subject}: the partial ingest shrank from ${offset} to ${resumedFrom} bytes; retrying`), { code: 'ECONNRESET' });
  };
}
