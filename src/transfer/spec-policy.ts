import { dirname, resolve } from 'node:path';
import { ErrorCode, UsageError } from '../core/errors.js';
import { IDENTITY_RULES, repositoryPattern, type IdentityRule } from '../trust/index.js';

// The spec file's `policy:` section: which keys must have signed which
// repositories (the same check as --require-signed-by, per pattern).
//
//   policy:
//     - repositories: registry.example/acme/**   # a pattern or a list; * within a path segment, ** across
//       keys: [keys/acme.pub]                     # any one suffices; paths relative to the spec file
//       identity: matchExact                      # matchRepository (default), matchExact, matchRepoDigestOrExact
//       rekorKey: keys/rekor.pub                  # optional: a Rekor SET must vouch for each .sig signature
//
// Entries are tried in order; the first whose pattern matches an image decides.

export interface SpecPolicyEntry {
  patterns: string[];
  /** Absolute paths of public key files. */
  keys: string[];
  identity: IdentityRule;
  rekorKeys: string[];
}

function fail(where: string, what: string): never {
  throw new UsageError(`spec ${where}: ${what}`, { code: ErrorCode.usage, hint: 'see docs/signatures.md for the policy section' });
}

function strings(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) fail(where, 'must be a string or a non-empty list of strings');
  return list as string[];
}

export function parseSpecPolicy(value: unknown, origin: string): SpecPolicyEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`${origin} policy`, 'must be a list of {repositories, keys, identity?, rekorKey?}');
  const base = dirname(resolve(origin));
  return value.map((raw: unknown, i: number): SpecPolicyEntry => {
    const where = `${origin} policy[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, 'must be a mapping');
    const entry = raw as Record<string, unknown>;
    const unknown = Object.keys(entry).filter((k) => !['repositories', 'keys', 'identity', 'rekorKey'].includes(k));
    if (unknown.length) fail(where, `unknown field '${unknown[0]}'`);
    const patterns = strings(entry.repositories, `${where}.repositories`);
    for (const p of patterns) {
      try {
        repositoryPattern(p);
      } catch (err) {
        fail(`${where}.repositories`, (err as Error).message);
      }
    }
    const identity = entry.identity ?? 'matchRepository';
    if (!IDENTITY_RULES.includes(identity as IdentityRule)) fail(`${where}.identity`, `must be one of ${IDENTITY_RULES.join(', ')}`);
    return {
      patterns,
      keys: strings(entry.keys, `${where}.keys`).map((k) => resolve(base, k)),
      identity: identity as IdentityRule,
      rekorKeys: entry.rekorKey === undefined ? [] : strings(entry.rekorKey, `${where}.rekorKey`).map((k) => resolve(base, k)),
    };
  });
}
