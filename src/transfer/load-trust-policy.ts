import type { IdentityRule, PolicyEntry, TrustedKey, TrustPolicy } from '../trust/index.js';
import { readTrustedKeyFile } from '../trust/index.js';
import type { SpecPolicyEntry } from './spec-policy.js';

// The signature policy in force: the spec's entries first (in order), then
// `--require-signed-by` for every image. Undefined when neither asks for
// signatures: without the flag nothing changes.

export interface TrustFlags {
  /** --require-signed-by KEY.pub (repeatable). */
  keys: readonly string[];
  /** --signed-identity (default matchRepository). */
  identity?: IdentityRule;
  /** --rekor-key KEY.pub (repeatable). */
  rekorKeys: readonly string[];
}

export async function loadTrustPolicy(spec: readonly SpecPolicyEntry[], flags: TrustFlags): Promise<TrustPolicy | undefined> {
  const cache = new Map<string, Promise<TrustedKey>>();
  const load = (path: string): Promise<TrustedKey> => {
    let key = cache.get(path);
    if (!key) cache.set(path, (key = readTrustedKeyFile(path)));
    return key;
  };
  const entries: PolicyEntry[] = [];
  for (const e of spec) {
    const rule = { keys: await Promise.all(e.keys.map(load)), identity: e.identity, rekorKeys: await Promise.all(e.rekorKeys.map(load)) };
    for (const pattern of e.patterns) entries.push({ pattern, rule });
  }
  if (flags.keys.length > 0) {
    entries.push({ pattern: '**', rule: { keys: await Promise.all(flags.keys.map(load)), identity: flags.identity ?? 'matchRepository', rekorKeys: await Promise.all(flags.rekorKeys.map(load)) } });
  }
  return entries.length > 0 ? { entries } : undefined;
}
