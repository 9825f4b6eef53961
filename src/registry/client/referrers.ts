import { ANNOTATION_REFERRER_TAG, MediaType, NotFoundError, digestHex, isIndex, parseDescriptor, type Descriptor, type ReferrersOptions } from '../../core/index.js';
import { referrersPath } from '../api/index.js';
import { repositoryScope } from './auth/scope.js';
import { getManifest, headManifest } from './manifests.js';
import { pages } from './pagination.js';
import type { RepoContext } from './repo-context.js';
import { headerOf } from './transport/exchange.js';

// Referrers of a manifest (signatures, SBOMs, attestations): the OCI 1.1
// referrers API first; when the registry lacks it (404, or an answer that is not
// an index — distribution 2.8), the `sha256-<hex>` tag schema. Then cosign's
// `sha256-<hex>.sig|.att|.sbom` tags, annotated with the tag they came from so
// an export can carry them and an import re-tag them. Tags are looked up only
// when the repository's tag listing names them (tag-snapshot.ts).

/** Annotation on a referrer found through a tag (cosign): the tag's name. Defined in core, re-exported here. */
export { ANNOTATION_REFERRER_TAG };
export const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;

/** Kept for callers of the client's own name; the options are core's. */
export type RemoteReferrersOptions = ReferrersOptions;

function indexEntries(doc: unknown, where: string): Descriptor[] {
  const manifests = (doc as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) return [];
  return manifests.map((d, i) => parseDescriptor(d, `${where} manifests[${i}]`));
}

/** The API answer, or undefined when the registry does not offer the API. */
async function fromApi(ctx: RepoContext, subject: Descriptor, opts: RemoteReferrersOptions): Promise<Descriptor[] | undefined> {
  const first = ctx.http.url(referrersPath(ctx.name, subject.digest));
  if (opts.artifactType) first.searchParams.set('artifactType', opts.artifactType);
  const out: Descriptor[] = [];
  const pageSpec = { http: ctx.http, first, scopes: [repositoryScope(ctx.name, 'pull')], accept: MediaType.ociIndex, emptyOn: [404, 400, 405], signal: opts.signal };
  let answered = false;
  for await (const { doc, res } of pages(pageSpec)) {
    const type = headerOf(res.headers, 'content-type')?.split(';')[0]?.trim();
    const declared = (doc as { mediaType?: unknown }).mediaType;
    if (!isIndex(type) && declared !== MediaType.ociIndex) return undefined;
    answered = true;
    out.push(...indexEntries(doc, `referrers of ${subject.digest}`));
  }
  return answered ? out : undefined;
}

/** `tags`: the repository's tag snapshot, when there is one; a tag it lacks is not asked for. */
async function fromTagSchema(ctx: RepoContext, subject: Descriptor, tags: Set<string> | undefined, signal?: AbortSignal): Promise<Descriptor[]> {
  const tag = `sha256-${digestHex(subject.digest)}`;
  if (tags && !tags.has(tag)) return [];
  let fetched;
  try {
    fetched = await getManifest(ctx, tag, signal);
  } catch (e) {
    if (e instanceof NotFoundError) return [];
    throw e;
  }
  const { descriptor, bytes } = fetched;
  if (!isIndex(descriptor.mediaType)) return [];
  return indexEntries(JSON.parse(Buffer.from(bytes).toString('utf8')), `${ctx.name}:${tag}`);
}

/** The API's answer; the tag schema when the registry lacks the API (remembered per client, see RegistryTraits). */
async function referrerIndex(ctx: RepoContext, subject: Descriptor, opts: RemoteReferrersOptions, tags: () => Promise<Set<string> | undefined>): Promise<Descriptor[]> {
  const traits = ctx.registryTraits;
  // Its outcome only: a probe that failed leaves the answer unknown, and this lookup asks in its turn.
  if (traits.referrersApi === undefined && traits.referrersApiProbe) await traits.referrersApiProbe;
  if (traits.referrersApi !== false) {
    let settle: (() => void) | undefined;
    if (traits.referrersApi === undefined && !traits.referrersApiProbe) traits.referrersApiProbe = new Promise<void>((resolve) => (settle = resolve));
    try {
      const api = await fromApi(ctx, subject, opts);
      traits.referrersApi = api !== undefined;
      if (api !== undefined) return api;
    } finally {
      if (settle) {
        delete traits.referrersApiProbe;
        settle();
      }
    }
  }
  return fromTagSchema(ctx, subject, await tags(), opts.signal);
}

export async function* listReferrers(ctx: RepoContext, subject: Descriptor, opts: RemoteReferrersOptions = {}): AsyncGenerator<Descriptor> {
  const seen = new Set<string>();
  const withCosign = opts.cosignTags !== false && !opts.artifactType;
  // Independent look-ups: asked together (pipelined over the keep-alive pool), not one round trip after another.
  const cosignTags = withCosign ? COSIGN_SUFFIXES.map((suffix) => `sha256-${digestHex(subject.digest)}.${suffix}`) : [];
  // One listener on the caller's signal for the four requests (an export shares one signal across every image).
  const scope = new AbortController();
  const abort = (): void => scope.abort(opts.signal?.reason);
  if (opts.signal?.aborted) abort();
  else opts.signal?.addEventListener('abort', abort, { once: true });
  let found: Descriptor[];
  let tagged: (Descriptor | undefined)[];
  // The repository's tags, listed once per client (tag-snapshot.ts), asked for alongside the API: only tags it names are looked up.
  // Without cosign's tags the listing could spare one request, the `sha256-<hex>` index's, and costs one itself:
  // that index is asked for directly (a 404 when there is none).
  let listing: Promise<Set<string> | undefined> | undefined;
  const tags = (): Promise<Set<string> | undefined> => (listing ??= withCosign ? ctx.tagSnapshots.tags(ctx, scope.signal) : Promise.resolve(undefined));
  if (withCosign) void tags();
  // A tag the listing names is read with a GET: its bytes stay in the manifest cache for the copy that follows,
  // and undici closes the connection after every HEAD (one TCP handshake per HEAD).
  const cosign = async (tag: string): Promise<Descriptor | undefined> => {
    const listed = (await tags())?.has(tag);
    if (listed === false) return undefined;
    if (listed === undefined) return headManifest(ctx, tag, scope.signal);
    return getManifest(ctx, tag, scope.signal).then(
      (f) => f.descriptor,
      (e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)),
    );
  };
  try {
    // Promise.all observes every promise, so a second failure is not left unhandled.
    [found, tagged] = await Promise.all([referrerIndex(ctx, subject, { ...opts, signal: scope.signal }, tags), Promise.all(cosignTags.map(cosign))]);
  } finally {
    opts.signal?.removeEventListener('abort', abort);
  }
  for (const d of found) {
    // The API filters server-side when it can (OCI-Filters-Applied); the tag schema never does.
    if (opts.artifactType && d.artifactType !== opts.artifactType) continue;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    yield d;
  }
  for (const [i, d] of tagged.entries()) {
    if (!d || seen.has(d.digest)) continue;
    seen.add(d.digest);
    const tag = cosignTags[i] as string;
    yield { ...d, annotations: { ...d.annotations, [ANNOTATION_REFERRER_TAG]: tag } };
  }
}
