// The OCI distribution-spec error codes, their HTTP statuses and messages, in one
// place for both the client (parsing) and the server (answering). distribution's
// registry/api/errcode/register.go keeps the same table.

export const RegistryErrorCode = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  MANIFEST_TOO_LARGE: { status: 413, message: 'manifest too large' },
} as const satisfies Record<string, { status: number; message: string }>;
export type RegistryErrorCodeName = keyof typeof RegistryErrorCode;

/** One entry of the spec's error envelope `{"errors":[{code,message,detail}]}`. */
export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

export function isRegistryErrorCode(code: string): code is RegistryErrorCodeName {
  return Object.hasOwn(RegistryErrorCode, code);
}

/** The JSON body for an error answer. */
export function errorEnvelope(code: RegistryErrorCodeName, message?: string, detail?: unknown): { errors: RegistryErrorEntry[] } {
  const entry: RegistryErrorEntry = { code, message: message ?? RegistryErrorCode[code].message };
  if (detail !== undefined) entry.detail = detail;
  return { errors: [entry] };
}

/** Parses an error body; tolerant, because registries vary. Returns [] for anything else. */
export function parseErrorEnvelope(body: string): RegistryErrorEntry[] {
  try {
    const doc = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({ code: String(e.code ?? 'UNKNOWN'), message: String(e.message ?? ''), detail: e.detail }));
  } catch {
    return [];
  }
}
