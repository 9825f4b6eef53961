import { ErrorCode, UsageError } from '../core/errors.js';
import { normalizeRegistry, parseReference, type Reference } from '../core/reference.js';

// Where an image goes on the far side (design §5). `--to HOST[:PORT][/PREFIX]`
// swaps the registry host and keeps the repository path and tag; `--retag FROM=TO`
// rules refine that per source, longest prefix wins.

export interface RetagRule {
  from: string;
  to: string;
}

export interface Destination {
  /** host[:port] */
  registry: string;
  /** Path prefix under which every repository lands ('' for none). */
  prefix: string;
}

export function parseDestination(text: string): Destination {
  const trimmed = text.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  const host = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefix = slash < 0 ? '' : trimmed.slice(slash + 1);
  if (!host) throw new UsageError(`invalid destination '${text}': expected REGISTRY[:PORT][/PREFIX]`, { code: ErrorCode.usage });
  if (prefix) checkName(`${prefix}/x`, `--to ${text}`);
  return { registry: normalizeRegistry(host), prefix };
}

export function parseRetagRule(text: string): RetagRule {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new UsageError(`invalid --retag '${text}': expected FROM=TO, e.g. mcr.microsoft.com/=myregistry.local/mcr/`, { code: ErrorCode.usage });
  }
  return { from: text.slice(0, eq).trim(), to: text.slice(eq + 1).trim() };
}

/** Does `prefix` match `name` at a path-component boundary? */
function matchesPrefix(name: string, prefix: string): boolean {
  if (!name.startsWith(prefix)) return false;
  return prefix.endsWith('/') || name.length === prefix.length || name[prefix.length] === '/';
}

function checkName(name: string, origin: string): Reference {
  try {
    return parseReference(name);
  } catch (err) {
    throw new UsageError(`${origin} gives an invalid target name '${name}': ${(err as Error).message}`, {
      code: (err as UsageError).code ?? ErrorCode.nameInvalid,
      hint: 'registries accept only lowercase repository paths of [a-z0-9._-/]',
    });
  }
}

/** The target reference for a source image, or undefined when neither --to nor a rule applies. */
export function retarget(source: Reference, destination: Destination | undefined, rules: RetagRule[]): Reference | undefined {
  const name = `${source.registry}/${source.repository}`;
  const rule = rules.filter((r) => matchesPrefix(name, r.from)).sort((a, b) => b.from.length - a.from.length)[0];
  let target: string;
  let origin: string;
  if (rule) {
    const rest = name.slice(rule.from.length).replace(/^\//, '');
    target = rule.to.endsWith('/') || rest === '' ? `${rule.to}${rest}` : `${rule.to}/${rest}`;
    origin = `--retag ${rule.from}=${rule.to}`;
  } else if (destination) {
    target = [destination.registry, destination.prefix, source.repository].filter(Boolean).join('/');
    origin = `--to ${destination.registry}${destination.prefix ? `/${destination.prefix}` : ''}`;
  } else {
    return undefined;
  }
  // A bare "host/name" target would be read as a Docker Hub path: the host must look like one.
  const ref = checkName(target, origin);
  const out: Reference = { registry: ref.registry, repository: ref.repository };
  if (source.tag) out.tag = source.tag;
  if (source.digest) out.digest = source.digest;
  return out;
}
