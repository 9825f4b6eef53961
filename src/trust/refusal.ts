import { ErrorCode, IntegrityError } from '../core/errors.js';
import { countBy } from '../core/count-by.js';
import { LISTED_FAILURES } from '../core/limits.js';
import type { Digest } from '../core/digest.js';
import type { RefusalReason, Rejection } from './verdict.js';

// What the user reads when images are refused: one line per image, naming it,
// the digest checked and why (design §5: exit 5, integrity), for the first
// LISTED_FAILURES of them. The CLI prints each line of the message as its own
// `ferry: error:` line.

const HEADLINE: Record<RefusalReason, string> = {
  'no-signature': 'no signature by a trusted key',
  keyless: 'no signature by a trusted key',
  'unknown-key': 'no signature by a trusted key',
  'transparency-log': 'transparency-log proof missing or invalid',
  'bad-payload': 'invalid signature payload',
  'other-manifest': 'signature is for another manifest',
  'identity-mismatch': 'identity mismatch',
  'unreadable-manifest': 'cannot check the image',
  'no-rule': 'no trusted key for this repository',
};

export interface ImageRefusal {
  /** The image as the user knows it (reference asked for, or the bundle's name). */
  image: string;
  digest?: Digest;
  rejection: Rejection;
}

export function refusalLine(r: ImageRefusal): string {
  const at = r.digest ? ` (${r.digest.slice(0, 19)}…)` : '';
  return `${r.image}${at}: ${HEADLINE[r.rejection.reason]} — ${r.rejection.detail}`;
}

function refusalMessage(refusals: readonly ImageRefusal[]): string {
  const shown = refusals.slice(0, LISTED_FAILURES).map(refusalLine);
  const rest = refusals.slice(LISTED_FAILURES);
  if (rest.length === 0) return shown.join('\n');
  const byHeadline = countBy(rest, (r) => HEADLINE[r.rejection.reason]);
  const why = [...byHeadline].map(([headline, n]) => `${n}: ${headline}`).join(', ');
  return [...shown, `and ${rest.length} more images refused (${refusals.length} in all; ${why}): --json lists every one`].join('\n');
}

/** One or more images failed the signature policy: nothing was written. Exit 5. */
export class UntrustedImagesError extends IntegrityError {
  readonly refusals: readonly ImageRefusal[];
  constructor(refusals: readonly ImageRefusal[], hint: string) {
    super(refusalMessage(refusals), { code: ErrorCode.untrustedImage, hint, subject: refusals[0]?.image });
    this.refusals = refusals;
  }
}
