import { parseReference, repositoryName, type Reference } from '../core/reference.js';

// Which image a signature says it is for (`critical.identity.docker-reference`)
// against the image being checked: containers/image's signedIdentity rules
// (signature/policy_reference_match.go), both sides normalised as Docker does
// (`busybox` = `docker.io/library/busybox`, `index.docker.io` = `docker.io`).
//   matchRepository         same repository, any tag (what cosign-made signatures allow:
//                           cosign writes the repository only)
//   matchExact              same repository and tag; a name without a tag never matches
//   matchRepoDigestOrExact  exact when the image is named by tag, repository when by digest
//                           (containers/image's default)

export const IDENTITY_RULES = ['matchRepository', 'matchExact', 'matchRepoDigestOrExact'] as const;
export type IdentityRule = (typeof IDENTITY_RULES)[number];

/** A signed identity as written: `name[:tag][@digest]`; no default tag is added. Undefined when it is no reference. */
export function parseSignedIdentity(text: string): Reference | undefined {
  try {
    const ref = parseReference(text, { defaultTag: '' });
    if (ref.tag === '') delete ref.tag;
    return ref;
  } catch {
    return undefined;
  }
}

function nameOnly(ref: Reference): boolean {
  return !ref.tag && !ref.digest;
}

function exact(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Does the identity a signature claims satisfy `rule` for the image named `intended`? */
export function identityMatches(rule: IdentityRule, intended: Reference, signed: string): boolean {
  const claimed = parseSignedIdentity(signed);
  if (!claimed) return false;
  const sameRepository = repositoryName(claimed) === repositoryName(intended);
  switch (rule) {
    case 'matchRepository':
      return sameRepository;
    case 'matchExact':
      return !nameOnly(intended) && !nameOnly(claimed) && exact(claimed) === exact(intended);
    case 'matchRepoDigestOrExact':
      if (nameOnly(claimed)) return false;
      return intended.tag ? exact(claimed) === exact(intended) : sameRepository;
  }
}

/** What a rule expects, for messages: `the repository 'r'` or `exactly 'r:t'`. */
export function describeExpectation(rule: IdentityRule, intended: Reference): string {
  if (rule === 'matchRepository' || (rule === 'matchRepoDigestOrExact' && !intended.tag)) return `the repository '${repositoryName(intended)}'`;
  return `exactly '${exact(intended)}'`;
}
