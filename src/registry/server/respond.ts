import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ErrorCode, FerryError } from '../../core/index.js';
import { API_VERSION, FERRY_SERVE_HEADER, FERRY_SERVE_VERSION, Header, RegistryErrorCode, errorEnvelope, type RegistryErrorCodeName, type RegistryErrorEntry } from '../api/index.js';

// The one place that writes error envelopes (verdaccio's single error middleware,
// distribution errcode). Handlers throw ServerError (or let a FerryError from the
// store escape); router.ts catches everything and calls sendError.

export interface ServerErrorOptions {
  /** Overrides the code's usual status (413 for an oversized manifest, 416 for a bad range). */
  status?: number;
  detail?: unknown;
  headers?: OutgoingHttpHeaders;
}

/** distribution's code for a 500: not in the spec table, because no client can act on it. */
type ServerErrorCode = RegistryErrorCodeName | 'UNKNOWN';

/** A distribution-spec error answer: code, one-line message, optional status/detail/headers. */
export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: OutgoingHttpHeaders;

  constructor(code: ServerErrorCode, message?: string, options: ServerErrorOptions = {}) {
    super(message ?? (code === 'UNKNOWN' ? 'unknown error' : RegistryErrorCode[code].message));
    this.name = 'ServerError';
    this.code = code;
    this.status = options.status ?? (code === 'UNKNOWN' ? 500 : RegistryErrorCode[code].status);
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/** Store errors mapped to spec codes: what went wrong is the store's message, said once. */
const FERRY_TO_REGISTRY: Partial<Record<string, RegistryErrorCodeName>> = {
  [ErrorCode.digestMismatch]: 'DIGEST_INVALID',
  [ErrorCode.digestInvalid]: 'DIGEST_INVALID',
  [ErrorCode.digestAlgorithm]: 'DIGEST_INVALID',
  [ErrorCode.sizeMismatch]: 'SIZE_INVALID',
  [ErrorCode.nameInvalid]: 'NAME_INVALID',
  [ErrorCode.tagInvalid]: 'TAG_INVALID',
  [ErrorCode.manifestInvalid]: 'MANIFEST_INVALID',
  [ErrorCode.unsupportedMediaType]: 'MANIFEST_INVALID',
  [ErrorCode.manifestTooLarge]: 'MANIFEST_INVALID',
  [ErrorCode.manifestUnknown]: 'MANIFEST_UNKNOWN',
  [ErrorCode.blobUnknown]: 'BLOB_UNKNOWN',
  [ErrorCode.nameUnknown]: 'NAME_UNKNOWN',
  [ErrorCode.notFound]: 'BLOB_UNKNOWN',
  [ErrorCode.unauthorized]: 'UNAUTHORIZED',
  [ErrorCode.denied]: 'DENIED',
};

/** Turns anything thrown by a handler into a ServerError; undefined means "a bug: answer 500". */
export function toServerError(err: unknown): ServerError | undefined {
  if (err instanceof ServerError) return err;
  if (err instanceof FerryError) {
    const code = FERRY_TO_REGISTRY[err.code];
    if (!code) return undefined;
    const status = err.code === ErrorCode.manifestTooLarge ? 413 : undefined;
    return new ServerError(code, err.message, status === undefined ? {} : { status });
  }
  return undefined;
}

/** Headers every answer carries; X-Ferry-Serve tells a client it may use /ferry/v1/ (ferry prune). */
export function baseHeaders(): OutgoingHttpHeaders {
  return { [Header.apiVersion]: API_VERSION, [FERRY_SERVE_HEADER]: FERRY_SERVE_VERSION };
}

/** Writes the error envelope, unless the answer has started (then the connection is cut). */
export function sendError(req: IncomingMessage, res: ServerResponse, err: ServerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const envelope: { errors: RegistryErrorEntry[] } =
    err.code === 'UNKNOWN' ? { errors: [{ code: err.code, message: err.message }] } : errorEnvelope(err.code, err.message, err.detail);
  const body = Buffer.from(JSON.stringify(envelope));
  res.writeHead(err.status, {
    ...baseHeaders(),
    ...err.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A 500 with an envelope; the message is generic so internals never leak to clients. */
export function internalError(): ServerError {
  return new ServerError('UNKNOWN', 'internal server error');
}

/** A JSON answer (tags list, catalog, referrers index, token). */
export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, {
    ...baseHeaders(),
    'content-type': 'application/json; charset=utf-8',
    ...headers,
    'content-length': body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** An answer without a body (201, 202, 204, HEAD 200); `content-length: 0` unless headers say otherwise. */
export function sendEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...baseHeaders(), 'content-length': 0, ...headers });
  res.end();
}
