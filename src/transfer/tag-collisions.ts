import { ErrorCode, UsageError } from '../core/errors.js';
import { formatReference, parseReference } from '../core/reference.js';
import type { PlannedImage } from './import-plan.js';

// Two different images must never land on one tag, the last one silently
// winning (`a.example/acme/api:1.4.4` and `b.example/acme/api:1.4.4` under
// `--to HOST/coll`). After --to, --retag and spec rules have named every
// target, each target tag — an image's, or a referrer's cosign tag — is checked
// for more than one digest, and every such tag is named at once, before the
// first byte is pushed. The same digest reaching one tag twice is not a collision.

interface Landing {
  image: PlannedImage;
  /** What the message calls it: the source reference, or its referrer. */
  label: string;
  digest: string;
}

function landingsOf(image: PlannedImage): Array<{ tag: string; landing: Landing }> {
  const own = image.tags.map((tag) => ({ tag, landing: { image, label: image.source, digest: image.root.digest } }));
  const referrers = image.referrers.flatMap((r) => (r.tag ? [{ tag: r.tag, landing: { image, label: `${image.source} (its ${r.tag})`, digest: r.descriptor.digest } }] : []));
  return [...own, ...referrers];
}

/** A --retag rule that sends `image` somewhere of its own: its target path plus its source host. */
function suggestedRule(image: PlannedImage): string {
  const source = parseReference(image.source);
  const own = `${image.target.repository}-${source.registry.replaceAll(':', '_')}`;
  return `${source.registry}/${source.repository}=${image.target.registry ? `${image.target.registry}/` : ''}${own}`;
}

/** Refuses a plan in which any target tag would receive two different digests. */
export function refuseTagCollisions(images: readonly PlannedImage[]): void {
  const byTag = new Map<string, Landing[]>();
  for (const image of images) {
    const repository = formatReference({ registry: image.target.registry, repository: image.target.repository });
    for (const { tag, landing } of landingsOf(image)) {
      const key = `${repository}:${tag}`;
      byTag.set(key, [...(byTag.get(key) ?? []), landing]);
    }
  }
  const collisions = [...byTag.entries()].filter(([, landings]) => new Set(landings.map((l) => l.digest)).size > 1);
  const last = collisions[0]?.[1].at(-1);
  if (!last) return;
  const described = collisions.map(([tag, landings]) => `${tag} from ${landings.map((l) => `${l.label} (${l.digest.slice(0, 19)}…)`).join(' and ')}`);
  throw new UsageError(`${collisions.length} target tag(s) would receive different images (only the last one pushed would remain): ${described.join('; ')}`, {
    code: ErrorCode.usage,
    hint: `give one image of each a name of its own with --retag FROM=TO, e.g. --retag ${suggestedRule(last.image)}`,
  });
}
