import { ServerError } from './respond.js';

// The two byte-range headers of the API, parsed once: `Range` on blob GET
// (RFC 9110 §14.2, one range only) and `Content-Range` on upload PATCH (the
// distribution spec's `<start>-<end>`, inclusive). Linear parsers, no regex
// backtracking over untrusted input.

export type BlobRange =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const DIGITS = /^[0-9]{1,15}$/;

function int(text: string): number | undefined {
  return DIGITS.test(text) ? Number(text) : undefined;
}

/**
 * Interprets a `Range` header against a blob of `size` bytes. Anything it does not
 * understand (another unit, several ranges, garbage) means the whole blob, as RFC
 * 9110 allows; a well-formed range starting past the end is unsatisfiable (416).
 */
export function parseRangeHeader(header: string | undefined, size: number): BlobRange {
  if (header === undefined) return { kind: 'full' };
  const value = header.trim();
  if (!value.startsWith('bytes=') || value.includes(',')) return { kind: 'full' };
  const spec = value.slice('bytes='.length).trim();
  const dash = spec.indexOf('-');
  if (dash < 0) return { kind: 'full' };
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();
  if (first === '') {
    const suffix = int(last);
    if (suffix === undefined) return { kind: 'full' };
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = int(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : int(last);
  if (start === undefined || end === undefined || end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/**
 * Parses a PATCH `Content-Range` (`0-1023`; `bytes 0-1023/*` and `bytes=0-1023` are
 * tolerated) into an inclusive [start, end]. Malformed → 416 BLOB_UPLOAD_INVALID.
 */
export function parseContentRange(header: string): { start: number; end: number } {
  let value = header.trim();
  if (value.startsWith('bytes=')) value = value.slice('bytes='.length);
  else if (value.startsWith('bytes ')) value = value.slice('bytes '.length);
  const slash = value.indexOf('/');
  if (slash >= 0) value = value.slice(0, slash);
  const dash = value.indexOf('-');
  const start = dash > 0 ? int(value.slice(0, dash).trim()) : undefined;
  const end = dash > 0 ? int(value.slice(dash + 1).trim()) : undefined;
  if (start === undefined || end === undefined) {
    throw new ServerError('BLOB_UPLOAD_INVALID', `malformed Content-Range '${header.slice(0, 100)}': expected <start>-<end>`, {
      status: 416,
    });
  }
  return { start, end };
}

/** The `Range` header of an upload answer: the bytes received so far (`0-N`, inclusive; `0-0` when none). */
export function uploadedRange(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}
