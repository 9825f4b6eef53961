import { ErrorCode, UsageError } from '../core/errors.js';
import { repositoryName, type Reference } from '../core/reference.js';
import type { TrustRule } from './verify-image.js';

// Which keys must have signed which images: rules per repository pattern, the
// first that matches an image decides (the spec file's `policy:` entries in
// order, then `--require-signed-by` for every image). Once a policy is in
// force, an image no rule covers is refused: "only signed images cross".

export interface PolicyEntry {
  /** Over `registry/repository`: `*` is any run of characters but '/', `**` any run at all. */
  pattern: string;
  rule: TrustRule;
}

export interface TrustPolicy {
  entries: PolicyEntry[];
}

/** A repository pattern as a RegExp; a pattern with nothing but literal characters names one repository. */
export function repositoryPattern(pattern: string): RegExp {
  const last = pattern.slice(pattern.lastIndexOf('/') + 1);
  if (pattern.trim() === '' || /[\s@]/.test(pattern) || (!pattern.includes('/') && pattern !== '**') || last.includes(':')) {
    throw new UsageError(`repository pattern '${pattern}' must be REGISTRY/PATH with * or ** wildcards (no tag, no digest)`, { code: ErrorCode.usage });
  }
  const body = pattern
    .split('**')
    .map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** The rule for an image, or undefined when the policy covers it with none. */
export function ruleFor(policy: TrustPolicy, image: Pick<Reference, 'registry' | 'repository'>): TrustRule | undefined {
  const name = repositoryName(image);
  return policy.entries.find((e) => repositoryPattern(e.pattern).test(name))?.rule;
}
