import { parseDigest, type Digest } from './digest.js';
import { ErrorCode, UsageError } from './errors.js';

/**
 * A fully qualified image reference: `registry/repository[:tag][@digest]`.
 * Docker's normalisation applies: `nginx` is `docker.io/library/nginx:latest`.
 */
export interface Reference {
  /** Registry host, lowercased, with port if any: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path: `library/nginx`, `windows/servercore`. */
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/** distribution's reference.NameTotalLengthMax: a repository name, and `registry/repository`, at most this long. */
export const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function invalid(text: string, why: string, code: ErrorCode = ErrorCode.referenceInvalid, hint?: string): UsageError {
  return new UsageError(`invalid reference '${text.slice(0, 300)}': ${why}`, hint === undefined ? { code } : { code, hint });
}

/** Validates a repository path against the distribution grammar; returns it unchanged. */
export function validateRepository(path: string): string {
  if (path.length > MAX_NAME_LENGTH) {
    throw new UsageError(`repository name of ${path.length} characters is longer than ${MAX_NAME_LENGTH}, the most distribution allows`, {
      code: ErrorCode.nameInvalid,
      hint: `shorten '${path.slice(0, 40)}…' (registries refuse longer names)`,
    });
  }
  const components = path.split('/');
  if (path.length === 0 || components.some((c) => !PATH_COMPONENT.test(c))) {
    const hint = /[A-Z]/.test(path) ? `use '${path.toLowerCase()}'` : 'each path component must start and end with a letter or digit';
    throw new UsageError(`repository names may contain only lowercase letters, digits, '.', '_', '-' and '/': got '${path.slice(0, 300)}'`, {
      code: ErrorCode.nameInvalid,
      hint,
    });
  }
  return path;
}

export function validateTag(tag: string): string {
  if (!TAG.test(tag)) {
    throw new UsageError(`invalid tag '${tag.slice(0, 200)}': tags are 1-128 of letters, digits, '_', '.', '-' and may not start with '.' or '-'`, {
      code: ErrorCode.tagInvalid,
    });
  }
  return tag;
}

/** Normalises a registry host: lowercase, Docker Hub aliases folded to docker.io. */
export function normalizeRegistry(host: string): string {
  const lower = host.toLowerCase();
  if (!HOST.test(lower)) throw invalid(host, `'${host}' is not a valid registry host`);
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** Is this first path component a registry host rather than a Docker Hub namespace? (Docker's rule.) */
function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component !== component.toLowerCase();
}

export function parseReference(text: string, options: { defaultTag?: string } = {}): Reference {
  const input = text.trim();
  if (input.length === 0) throw invalid(text, 'empty reference');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch (err) {
      throw invalid(text, (err as Error).message, (err as UsageError).code);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(text, `'${tag}' is not a valid tag`, ErrorCode.tagInvalid);
  }
  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB;
  let repository = rest;
  if (slash >= 0 && looksLikeHost(rest.slice(0, slash))) {
    registry = normalizeRegistry(rest.slice(0, slash));
    repository = rest.slice(slash + 1);
  }
  try {
    validateRepository(repository);
  } catch (err) {
    throw invalid(text, (err as Error).message, ErrorCode.nameInvalid, (err as UsageError).hint);
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (`${registry}/${repository}`.length > MAX_NAME_LENGTH) throw invalid(text, `name longer than ${MAX_NAME_LENGTH} characters`, ErrorCode.nameInvalid);
  if (tag === undefined && digest === undefined) tag = options.defaultTag ?? 'latest';
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository`; a store name (registry '') is its repository alone. */
export function repositoryName(ref: Pick<Reference, 'registry' | 'repository'>): string {
  return ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
}

export function formatReference(ref: Reference): string {
  let s = repositoryName(ref);
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** What to ask a registry for: the digest when pinned, else the tag. */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
