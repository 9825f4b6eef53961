import { digestFromHex, digestHex, type Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { BundleEntry } from './format.js';

// ferry/SHA256SUMS: one `<hex>  blobs/sha256/<hex>` line per blob carried, in
// tar order, so that `sha256sum -c ferry/SHA256SUMS` checks a plain `tar -x`.
// The two hex strings are always equal (a blob is named by its digest); the
// reader insists on that, and on every line being well formed.

/** Every line is the same length: 64 hex, two spaces, blobs/sha256/, 64 hex, newline. */
export const SUMS_LINE_BYTES = 144;
const LINE = /^([a-f0-9]{64}) {2}blobs\/sha256\/([a-f0-9]{64})$/;

export function formatSha256Sums(digests: readonly Digest[]): Buffer {
  return Buffer.from(digests.map((d) => `${digestHex(d)}  blobs/sha256/${digestHex(d)}\n`).join(''));
}

function bad(what: string): IntegrityError {
  return new IntegrityError(`${BundleEntry.sums}: ${what}`, { code: ErrorCode.bundleInvalid, subject: BundleEntry.sums });
}

/** The digests listed, in file order; refuses malformed, mismatched or repeated lines. */
export function parseSha256Sums(bytes: Uint8Array): Digest[] {
  const text = Buffer.from(bytes).toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw bad('does not end with a newline');
  const lines = text.length === 0 ? [] : text.slice(0, -1).split('\n');
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const m = LINE.exec(line);
    if (!m) throw bad(`line ${i + 1} is not '<sha256>  blobs/sha256/<sha256>'`);
    const sum = m[1] as string;
    const name = m[2] as string;
    if (sum !== name) throw bad(`line ${i + 1} lists blobs/sha256/${name.slice(0, 12)}… with another digest`);
    if (seen.has(sum)) throw bad(`line ${i + 1} lists blobs/sha256/${sum.slice(0, 12)}… twice`);
    seen.add(sum);
    return digestFromHex(sum);
  });
}
