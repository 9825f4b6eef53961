import { parseDigest, type Digest } from './digest.js';
import { ErrorCode, UsageError } from './errors.js';
import { parseReference, validateRepository, validateTag } from './reference.js';
import { upstreamRepositoryName } from './upstream-repository.js';

// The one parser for a name that points into the local store (design §7: an
// image is stored as `<upstream host, ':'→'_'>/<path>`; one pushed by a plain
// client lives under the name it was pushed to). Whatever ferry prints for an
// image in the store (`store ls`, `import --to-store`, `inventory`, `ls`)
// comes back through here: the store spelling `127.0.0.1_5301/acme/api:1.4.2`,
// the upstream spelling `127.0.0.1:5301/acme/api:1.4.2` and Docker's short
// forms (`nginx:1.25`) all name the same image.

export interface StoreReference {
  /** Store repositories it may name, most literal first; the caller takes the first that holds it. */
  candidates: string[];
  tag?: string;
  digest?: Digest;
}

function invalid(text: string, why: string, code: ErrorCode = ErrorCode.referenceInvalid): UsageError {
  return new UsageError(`invalid image name '${text.slice(0, 300)}': ${why}`, { code, hint: 'name it as ferry store ls prints it (HOST/REPO:TAG, HOST/REPO@sha256:…)' });
}

/** `defaultTag: null`: a name without tag or digest stays without (every tag of it). */
export function parseStoreReference(text: string, options: { defaultTag?: string | null } = {}): StoreReference {
  let rest = text.trim().replace(/^\/+/, '');
  if (rest.length === 0) throw invalid(text, 'empty name');
  const ref: StoreReference = { candidates: [] };
  const at = rest.indexOf('@');
  if (at >= 0) {
    try {
      ref.digest = parseDigest(rest.slice(at + 1));
    } catch (err) {
      throw invalid(text, (err as Error).message, (err as UsageError).code);
    }
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  // A colon after the last slash is a tag; one before it is a port (the upstream spelling).
  if (colon > rest.lastIndexOf('/')) {
    try {
      ref.tag = validateTag(rest.slice(colon + 1));
    } catch (err) {
      throw invalid(text, (err as Error).message, ErrorCode.tagInvalid);
    }
    rest = rest.slice(0, colon);
  }
  const defaultTag = options.defaultTag === undefined ? 'latest' : options.defaultTag;
  if (ref.tag === undefined && ref.digest === undefined && defaultTag !== null) ref.tag = defaultTag;
  const add = (name: string) => {
    if (!ref.candidates.includes(name)) ref.candidates.push(name);
  };
  if (!rest.includes(':')) {
    try {
      add(validateRepository(rest));
    } catch {
      // Not a store spelling (upper case, a port): the reference forms below may still read it.
    }
  }
  try {
    const upstream = parseReference(`${rest}${ref.digest ? `@${ref.digest}` : ''}`);
    add(upstreamRepositoryName(upstream.registry, upstream.repository));
    add(upstream.repository);
  } catch (err) {
    if (ref.candidates.length === 0) throw invalid(text, (err as Error).message.replace(/^invalid reference '[^']*': /, ''), (err as UsageError).code);
  }
  return ref;
}

/** How the name reads once found: `REPOSITORY:TAG` or `REPOSITORY@DIGEST`. */
export function formatStoreReference(repository: string, ref: Pick<StoreReference, 'tag' | 'digest'>): string {
  return ref.digest ? `${repository}@${ref.digest}` : `${repository}:${ref.tag ?? 'latest'}`;
}
