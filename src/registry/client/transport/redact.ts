// Redaction for everything that leaves the client as text: error messages and
// --trace records. URLs lose userinfo and every query value not known to be
// harmless (signed blob URLs carry `sig`, `se`, `X-Amz-Signature`, tokens, and
// upload `_state`); headers lose credentials. Linear scans, no backtracking regex.

const SAFE_QUERY_KEYS = new Set(['n', 'last', 'digest', 'mount', 'from', 'artifactType', 'service', 'scope']);
export const REDACTED = 'REDACTED';

/** A URL fit to print: no userinfo, no secret-looking query values. */
export function redactUrl(input: URL | string): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return '<invalid url>';
  }
  url.username = '';
  url.password = '';
  const keys = [...new Set(url.searchParams.keys())];
  for (const key of keys) {
    if (!SAFE_QUERY_KEYS.has(key)) url.searchParams.set(key, REDACTED);
  }
  return url.toString();
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-registry-auth', 'x-ms-copy-source-authorization']);
const URL_HEADERS = new Set(['location', 'content-location']);
// Challenge parameters that say what to do, not who you are.
const SAFE_CHALLENGE_PARAMS = new Set(['realm', 'service', 'scope', 'error', 'error_description']);

/** `Bearer abc.def` → `Bearer REDACTED`; keeps the scheme so a trace still says which auth was used. */
function redactCredential(value: string): string {
  const space = value.indexOf(' ');
  return space > 0 ? `${value.slice(0, space)} ${REDACTED}` : REDACTED;
}

/** Keeps realm/service/scope of a WWW-Authenticate challenge, redacts any other parameter value. */
function redactChallenge(value: string): string {
  return value.replace(/([A-Za-z0-9_-]+)=("(?:[^"\\]|\\.)*"|[^,\s]*)/g, (whole, key: string) =>
    SAFE_CHALLENGE_PARAMS.has(key.toLowerCase()) ? whole : `${key}="${REDACTED}"`,
  );
}

export type HeaderValue = string | string[] | undefined;

export function redactHeaderValue(name: string, value: string): string {
  const key = name.toLowerCase();
  if (SECRET_HEADERS.has(key)) return redactCredential(value);
  if (URL_HEADERS.has(key)) return redactUrl(value.startsWith('/') ? new URL(value, 'http://relative.invalid') : value).replace('http://relative.invalid', '');
  if (key === 'www-authenticate') return redactChallenge(value);
  return value;
}

/** A copy of `headers` with lowercase names and credentials redacted. */
export function redactHeaders(headers: Record<string, HeaderValue>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map((v) => redactHeaderValue(name, v)) : redactHeaderValue(name, value);
  }
  return out;
}
