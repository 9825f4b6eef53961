import {
  AuthError, ErrorCode, FerryError, IntegrityError, MAX_ERROR_BODY_BYTES, NetworkError, NotFoundError, UsageError,
} from '../../core/index.js';
import { parseErrorEnvelope, type RegistryErrorEntry } from '../api/index.js';
import { dropBody, headerOf, type HttpMethod, type HttpResponse } from './transport/exchange.js';
import { redactUrl } from './transport/redact.js';
import { refusalError } from './refusals.js';

// A registry's refusal → one FerryError of the right category, with a one-line
// message that starts with `METHOD redacted-URL` and a hint (ggcr transport/error.go,
// pnpm FetchError). The error body is read through a 64 KiB cap.

/** What the registry said, kept beside the FerryError for callers that act on codes (e.g. MANIFEST_BLOB_UNKNOWN). */
export interface RegistryErrorDetails {
  method: string;
  url: string;
  status: number;
  codes: string[];
  errors: RegistryErrorEntry[];
}

const details = new WeakMap<FerryError, RegistryErrorDetails>();

export function registryErrorDetails(err: unknown): RegistryErrorDetails | undefined {
  return err instanceof FerryError ? details.get(err) : undefined;
}

/** Reads at most `limit` bytes of a body, then drops the rest. */
export async function readBounded(res: HttpResponse, limit = MAX_ERROR_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      chunks.push(buf.subarray(0, Math.max(0, limit - total)));
      total += buf.length;
      if (total >= limit) {
        dropBody(res);
        break;
      }
    }
  } catch {
    // the body of an error is a courtesy; a broken one still leaves the status
  }
  return Buffer.concat(chunks).toString('utf8');
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function build(method: HttpMethod, status: number, entries: RegistryErrorEntry[], prefix: string, bodyText: string): FerryError {
  const codes = entries.map((e) => e.code);
  const said = entries.length > 0 ? entries.map((e) => `${e.code}${e.message ? `: ${e.message}` : ''}`).join('; ') : oneLine(bodyText, 160);
  const message = oneLine(`${prefix}: ${status}${said ? ` ${said}` : ''}`);
  const has = (c: string) => codes.includes(c);
  if (has('NAME_INVALID')) {
    return new UsageError(message, { code: ErrorCode.nameInvalid, hint: 'repository names must be lowercase: letters, digits and . _ - / only' });
  }
  // Quota, locks, missing roles, deletes turned off: named by what they are (refusals.ts).
  const refusal = refusalError(method, status, entries, said, message);
  if (refusal) return refusal;
  if (status === 401 || has('UNAUTHORIZED')) {
    return new AuthError(message, { code: ErrorCode.unauthorized, hint: 'check the credentials (--creds, --authfile, docker login); if a token expired, log in again' });
  }
  if (status === 429 || has('TOOMANYREQUESTS')) {
    return new NetworkError(message, { code: ErrorCode.tooManyRequests, hint: 'the registry is rate limiting: wait, lower --concurrency, or log in (Docker Hub limits anonymous pulls)' });
  }
  if (has('MANIFEST_UNKNOWN')) return new NotFoundError(message, { code: ErrorCode.manifestUnknown });
  if (has('BLOB_UNKNOWN') || has('MANIFEST_BLOB_UNKNOWN')) {
    return new NotFoundError(message, { code: ErrorCode.blobUnknown, hint: 'the registry lacks content this refers to: push its children first' });
  }
  if (has('NAME_UNKNOWN')) return new NotFoundError(message, { code: ErrorCode.nameUnknown, hint: 'check the repository name' });
  if (status === 404) return new NotFoundError(message, { code: ErrorCode.notFound });
  if (has('DIGEST_INVALID')) return new IntegrityError(message, { code: ErrorCode.digestMismatch });
  if (has('SIZE_INVALID')) return new IntegrityError(message, { code: ErrorCode.sizeMismatch });
  if (has('MANIFEST_INVALID') || has('MANIFEST_TOO_LARGE') || has('TAG_INVALID')) {
    return new IntegrityError(message, { code: ErrorCode.manifestInvalid, hint: 'the registry refused the manifest (foreign-layer urls? use --foreign-layers=localize)' });
  }
  return new NetworkError(message, { code: ErrorCode.registry, hint: status >= 500 ? 'the registry failed; try again later or check its logs' : undefined });
}

/** Turns an unexpected answer into a FerryError, consuming its (bounded) body. */
export async function responseError(method: HttpMethod, url: URL, res: HttpResponse): Promise<FerryError> {
  const body = method === 'HEAD' ? '' : await readBounded(res);
  if (method === 'HEAD') dropBody(res);
  const entries = parseErrorEnvelope(body);
  const contentType = headerOf(res.headers, 'content-type') ?? '';
  // An HTML error page says nothing useful on one line; the status does.
  const text = contentType.includes('html') ? '' : body;
  const prefix = `${method} ${redactUrl(url)}`;
  const err = build(method, res.status, entries, prefix, text);
  details.set(err, { method, url: redactUrl(url), status: res.status, codes: entries.map((e) => e.code), errors: entries });
  return err;
}

/** `to` replaces `from` (a refusal reworded with who was refused): it keeps what the registry said. */
export function keepRegistryDetails(from: FerryError, to: FerryError): FerryError {
  const d = details.get(from);
  if (d) details.set(to, d);
  return to;
}
