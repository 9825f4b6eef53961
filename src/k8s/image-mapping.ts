import type { Digest } from '../core/digest.js';
import { parseReference, type Reference } from '../core/reference.js';
import { upstreamRepositoryName } from '../core/upstream-repository.js';
import { retarget, type Destination, type RetagRule } from '../transfer/retag.js';

// What one `image:` value becomes: the same retargeting as `ferry import`
// (`--to`/--registry swaps the host and keeps the path, `--retag` rules refine
// it, longest prefix wins), so a manifest names exactly what import pushed.
// `nginx` is docker.io/library/nginx, so with --registry site.example/mirror it
// becomes site.example/mirror/library/nginx. A value already under the
// destination is left alone, so rewriting twice changes nothing.
// For `ferry serve` (storeNames) the path is the store name instead, upstream
// host kept ('_' for ':'): nginx becomes HOST:PORT/docker.io/library/nginx,
// exactly the name ferry serve serves (design §7).

/** Where digests come from (a bundle's index.db, the store). */
export interface DigestPins {
  readonly source: string;
  /** The digest for a tagged source reference, or undefined when not known. */
  lookup(ref: Reference): Promise<Digest | undefined>;
}

export interface ImageMapping {
  destination?: Destination;
  rules: readonly RetagRule[];
  pins?: DigestPins;
  /** The destination is ferry serve: images are named as the store names them, under destination's host. */
  storeNames?: boolean;
}

export type MappedImage =
  /** `warning` when a wanted digest pin was not found (the image is still moved). */
  | { action: 'rewrite'; to: string; pinned: boolean; warning?: string }
  | { action: 'keep'; reason: 'already at the destination' | 'no rule for its registry' }
  /** Left as is, and worth telling the user (templated or invalid values). */
  | { action: 'skip'; reason: string };

/** Did the text name a tag (`nginx:1.25`, `host:5000/app:1`) rather than only a host port? */
export function hasExplicitTag(value: string): boolean {
  const name = value.split('@')[0] ?? '';
  return name.lastIndexOf(':') > name.lastIndexOf('/');
}

function under(name: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return p !== '' && (name === p || name.startsWith(`${p}/`));
}

function alreadyMapped(ref: Reference, mapping: ImageMapping): boolean {
  const name = `${ref.registry}/${ref.repository}`;
  const d = mapping.destination;
  if (d && under(name, [d.registry, d.prefix].filter(Boolean).join('/'))) return true;
  return mapping.rules.some((r) => under(name, r.to));
}

/** The name ferry serve serves an image under: the destination host, then the store name. */
function servedName(source: Reference, destination: ImageMapping['destination']): Reference | undefined {
  if (!destination) return undefined;
  const repository = [destination.prefix, upstreamRepositoryName(source.registry, source.repository)].filter(Boolean).join('/');
  return { registry: destination.registry, repository };
}

export async function mapImage(value: string, mapping: ImageMapping): Promise<MappedImage> {
  let source: Reference;
  try {
    source = parseReference(value);
  } catch (err) {
    return { action: 'skip', reason: `not an image reference (${(err as Error).message})` };
  }
  if (alreadyMapped(source, mapping)) return { action: 'keep', reason: 'already at the destination' };
  const target = mapping.storeNames ? servedName(source, mapping.destination) : retarget(source, mapping.destination, [...mapping.rules]);
  if (!target) return { action: 'keep', reason: 'no rule for its registry' };
  let digest = source.digest;
  let pinned = false;
  let missingPin = false;
  if (!digest && mapping.pins) {
    digest = await mapping.pins.lookup(source);
    pinned = digest !== undefined;
    missingPin = !pinned;
  }
  let to = `${target.registry}/${target.repository}`;
  if (hasExplicitTag(value) && source.tag) to += `:${source.tag}`;
  if (digest) to += `@${digest}`;
  if (missingPin) return { action: 'rewrite', to, pinned, warning: `no digest for ${value} in ${mapping.pins?.source ?? 'the pin source'}: left unpinned` };
  return { action: 'rewrite', to, pinned };
}
