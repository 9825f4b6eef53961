import type { EventSink } from './progress-events.js';
import type { Readable } from 'node:stream';
import type { Descriptor } from './descriptor.js';

// The capability interfaces every transfer is written against (design §2, oras
// content.Storage). A remote repository, a store repository and a bundle reader
// are sources; a remote repository and a store repository are targets. Targets are
// scoped to one repository, because blob links and auth scopes are per repository.

export interface FetchOptions {
  /** Start at this byte (HTTP Range); for resuming an interrupted download. */
  offset?: number;
  signal?: AbortSignal;
}

export interface ReferrersOptions {
  artifactType?: string;
  /** Also the referrers named by cosign's tags (`sha256-<hex>.sig|.att|.sbom`) where a source keeps them (default true; skipped when artifactType filters). */
  cosignTags?: boolean;
  signal?: AbortSignal;
}

export interface ContentSource {
  /** A tag or a digest in this repository → the descriptor of what it names. */
  resolve(reference: string, options?: { signal?: AbortSignal }): Promise<Descriptor>;
  /** The bytes of a manifest or blob, streamed and NOT verified: callers verify while they copy. */
  fetch(desc: Descriptor, options?: FetchOptions): Promise<Readable>;
  /** Manifests whose `subject` is `subject` (signatures, SBOMs, attestations). */
  referrers?(subject: Descriptor, options?: ReferrersOptions): AsyncIterable<Descriptor>;
  /** Every tag of this repository. */
  tags?(options?: { signal?: AbortSignal }): AsyncIterable<string>;
  /** `fetch(desc)` is answered from memory, not by a request (it needs no request slot). */
  fromMemory?(desc: Descriptor): boolean;
}

export interface PushOptions {
  signal?: AbortSignal;
  /**
   * `body` starts at this byte: the target already holds the bytes before it
   * (it said so through `resumeOffset`). Default 0.
   */
  offset?: number;
  /** The one progress channel: the target reports the bytes it took (written, or sent to the registry) as `bytes` events of `desc`. */
  onEvent?: EventSink;
  /**
   * The source's raw bytes again, from `offset` to the end (a range of a
   * bundle file): lets a large push stream in one request and resume after a
   * failure from where the target stopped. Not verified: the pusher verifies.
   */
  reopen?: (offset: number) => Readable;
  /** The caller has just seen that the target lacks this blob: skip asking again. */
  absent?: boolean;
}

export interface ContentTarget {
  /**
   * Its exists, mount, tag and manifest pushes are local work (a store), not
   * requests: copyGraph runs them without taking a request slot from the blobs.
   */
  readonly local?: boolean;
  exists(desc: Descriptor, options?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * Stores `body` as `desc`. Manifests (by media type) are stored as manifests,
   * everything else as blobs. Verifies digest and size while writing and commits
   * nothing on a mismatch. Pushing what already exists is not an error.
   */
  push(desc: Descriptor, body: Readable, options?: PushOptions): Promise<void>;
  /** Points `tag` at a manifest that is already in this repository. */
  tag(tag: string, desc: Descriptor, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Stores manifest `body` as `desc` under `tag` in one step (a registry's PUT by
   * tag): a push and a tag without the request between them. Only for a manifest
   * whose graph is already in place. Targets that cannot leave this out.
   */
  pushTagged?(desc: Descriptor, body: Readable, tag: string, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * How many leading bytes of `desc` the target already holds from an
   * interrupted push (a partial ingest), so the caller can fetch the rest with
   * Range. Targets that cannot resume leave this out.
   */
  resumeOffset?(desc: Descriptor): Promise<number>;
  /** Links a blob already held by `fromRepository` on the same registry or store; false when it could not. */
  mount?(desc: Descriptor, fromRepository: string, options?: { signal?: AbortSignal }): Promise<boolean>;
}

/** A repository that is both: a remote repository or a store repository. */
export interface Repository extends ContentSource, ContentTarget {
  /** Repository path, e.g. `library/nginx`. */
  readonly name: string;
}

/** A registry or a store: hands out repositories by name. */
export interface Namespace<R extends Repository = Repository> {
  repository(name: string): R;
}
