// The distribution API paths, built in one place for the client and parsed in
// one place for the server (distribution registry/api/v2 routes.go + urls.go).
// Names are validated by the caller (core validateRepository); these only encode.

/** `/v2/` — the version check (and the auth ping). */
export const BASE_PATH = '/v2/';

function enc(name: string): string {
  // Repository names are [a-z0-9._/-]: the slashes stay, nothing else needs escaping,
  // but encode each component anyway so a bad name cannot smuggle a query.
  return name.split('/').map(encodeURIComponent).join('/');
}

/** A tag or digest as a path segment: ':' stays literal, as every registry and client writes it. */
function ref(reference: string): string {
  return encodeURIComponent(reference).replace(/%3A/gi, ':');
}

export function manifestPath(name: string, reference: string): string {
  return `/v2/${enc(name)}/manifests/${ref(reference)}`;
}

export function blobPath(name: string, digest: string): string {
  return `/v2/${enc(name)}/blobs/${ref(digest)}`;
}

export function uploadsPath(name: string): string {
  return `/v2/${enc(name)}/blobs/uploads/`;
}

export function tagsPath(name: string): string {
  return `/v2/${enc(name)}/tags/list`;
}

export function referrersPath(name: string, digest: string): string {
  return `/v2/${enc(name)}/referrers/${ref(digest)}`;
}

export const CATALOG_PATH = '/v2/_catalog';

export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'ferry-gc' };

const ROUTES: ReadonlyArray<[RegExp, (m: RegExpExecArray) => Route]> = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1] ?? '' })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1] ?? '', reference: m[2] ?? '' })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1] ?? '' })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1] ?? '', id: m[2] ?? '' })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1] ?? '', digest: m[2] ?? '' })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1] ?? '', digest: m[2] ?? '' })],
  [/^\/ferry\/v1\/gc$/, () => ({ kind: 'ferry-gc' })],
];

/** Matches a request path (no query) to a route (ferry serve's own /ferry/v1/ ones too); undefined when it is not an API path. */
export function parseRoute(pathname: string): Route | undefined {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  for (const [pattern, build] of ROUTES) {
    const m = pattern.exec(path);
    if (m) return build(m);
  }
  return undefined;
}
