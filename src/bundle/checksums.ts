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
const TOOL_LINE_Y = /([a-f0-9]{64}) {2}(ferry\/tool\/\S+)\n/y;
/** A whole blob line whose name is its digest (the backreference), newline included: SUMS_LINE_BYTES long. */
const BLOB_LINE_Y = /([a-f0-9]{64}) {2}blobs\/sha256\/\1\n/y;

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

/**
 * Every line: the carried ferry releases (only at the top, each once), then the blobs.
 * One pass of sticky (/y) regexes over the text, no array of lines: a blob line
 * whose name repeats its digest is one backreference match; any other line is
 * looked at again only to say what is wrong with it.
 */
export function parseSha256SumsFile(bytes: Uint8Array): { tools: Array<{ entry: string; digest: Digest }>; blobs: Digest[] } {
  // A view, not Buffer.from(bytes): that copies byte by byte (~40 ms for the 630 KB of a 4,400-blob bundle).
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw bad('does not end with a newline');
  const tools: Array<{ entry: string; digest: Digest }> = [];
  let at = 0;
  for (let m: RegExpExecArray | null; at < text.length; at = TOOL_LINE_Y.lastIndex) {
    TOOL_LINE_Y.lastIndex = at;
    if (!(m = TOOL_LINE_Y.exec(text))) break;
    const entry = m[2] as string;
    if (!isToolEntry(entry) || tools.some((t) => t.entry === entry)) throw bad(`line ${tools.length + 1} lists ${quoteEntryName(entry)}, not one ferry release`);
    tools.push({ entry, digest: digestFromHex(m[1] as string) });
  }
  const seen = new Set<string>();
  const blobs: Digest[] = [];
  for (; at < text.length; at += SUMS_LINE_BYTES) {
    BLOB_LINE_Y.lastIndex = at;
    const sum = BLOB_LINE_Y.test(text) ? text.slice(at, at + 64) : undefined;
    const line = tools.length + blobs.length + 1;
    if (sum === undefined) throw badLine(text.slice(at, text.indexOf('\n', at)), line);
    if (seen.has(sum)) throw bad(`line ${line} lists blobs/sha256/${sum.slice(0, 12)}… twice`);
    seen.add(sum);
    // The match was 64 lowercase hex: a sha256 digest without parsing it again.
    blobs.push(`sha256:${sum}` as Digest);
  }
  return { tools, blobs };
}

/** What is wrong with a blob line BLOB_LINE_Y refused. */
function badLine(text: string, line: number): IntegrityError {
  const m = LINE.exec(text);
  if (!m) return bad(`line ${line} is not '<sha256>  blobs/sha256/<sha256>'`);
  return bad(`line ${line} lists blobs/sha256/${(m[2] as string).slice(0, 12)}… with another digest`);
}
