import { digestFromHex, digestHex, type Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { quoteEntryName } from './entry-policy.js';
import { BundleEntry, isToolEntry } from './format.js';

// ferry/SHA256SUMS: one `<hex>  blobs/sha256/<hex>` line per blob carried, in
// tar order, so that `sha256sum -c ferry/SHA256SUMS` checks a plain `tar -x`.
// The two hex strings are always equal (a blob is named by its digest); the
// reader insists on that, and on every line being well formed. A bundle that
// carries ferry lists each release (`<hex>  ferry/tool/ferry-….tar.gz`) first,
// in tar order too, so `sha256sum -c` checks it after a plain `tar -x`.

/** Every line is the same length: 64 hex, two spaces, blobs/sha256/, 64 hex, newline. */
export const SUMS_LINE_BYTES = 144;
const LINE = /^([a-f0-9]{64}) {2}blobs\/sha256\/([a-f0-9]{64})$/;
const TOOL_LINE = /^([a-f0-9]{64}) {2}(ferry\/tool\/\S+)$/;

/** Lines in tar order: the carried releases (`ferry/tool/…`) first, then every blob. */
export function formatSha256Sums(digests: readonly Digest[], tools: ReadonlyArray<{ entry: string; digest: Digest }> = []): Buffer {
  const toolLines = tools.map((t) => `${digestHex(t.digest)}  ${t.entry}\n`);
  return Buffer.from(toolLines.join('') + digests.map((d) => `${digestHex(d)}  blobs/sha256/${digestHex(d)}\n`).join(''));
}

function bad(what: string): IntegrityError {
  return new IntegrityError(`${BundleEntry.sums}: ${what}`, { code: ErrorCode.bundleInvalid, subject: BundleEntry.sums });
}

/** The blob digests listed, in file order; refuses malformed, mismatched or repeated lines. */
export function parseSha256Sums(bytes: Uint8Array): Digest[] {
  return parseSha256SumsFile(bytes).blobs;
}

/** Every line: the carried ferry releases (only at the top, each once), then the blobs. */
export function parseSha256SumsFile(bytes: Uint8Array): { tools: Array<{ entry: string; digest: Digest }>; blobs: Digest[] } {
  // A view, not Buffer.from(bytes): that copies byte by byte (~40 ms for the 630 KB of a 4,400-blob bundle).
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw bad('does not end with a newline');
  const lines = text.length === 0 ? [] : text.slice(0, -1).split('\n');
  const tools: Array<{ entry: string; digest: Digest }> = [];
  for (const line of lines) {
    const m = TOOL_LINE.exec(line);
    if (!m) break;
    if (!isToolEntry(m[2] as string) || tools.some((t) => t.entry === m[2])) throw bad(`line ${tools.length + 1} lists ${quoteEntryName(m[2] as string)}, not one ferry release`);
    tools.push({ entry: m[2] as string, digest: digestFromHex(m[1] as string) });
  }
  const seen = new Set<string>();
  const blobs = lines.slice(tools.length).map((line, at) => {
    const i = at + tools.length;
    const m = LINE.exec(line);
    if (!m) throw bad(`line ${i + 1} is not '<sha256>  blobs/sha256/<sha256>'`);
    const sum = m[1] as string;
    const name = m[2] as string;
    if (sum !== name) throw bad(`line ${i + 1} lists blobs/sha256/${name.slice(0, 12)}… with another digest`);
    if (seen.has(sum)) throw bad(`line ${i + 1} lists blobs/sha256/${sum.slice(0, 12)}… twice`);
    seen.add(sum);
    // LINE matched 64 lowercase hex: a sha256 digest without parsing it again.
    return `sha256:${sum}` as Digest;
  });
  return { tools, blobs };
}
