import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { UsageError } from '../core/errors.js';
import { IDENTITY_RULES, type IdentityRule, type TrustPolicy } from '../trust/index.js';
import { loadTrustPolicy } from '../transfer/load-trust-policy.js';
import { parseSpec } from '../transfer/spec.js';

// `--require-signed-by KEY.pub` and its companions, shared by export, copy and
// import: only images a trusted key signed cross (docs/signatures.md).

export interface TrustArgs {
  'require-signed-by'?: string[] | undefined;
  'signed-identity'?: IdentityRule | undefined;
  'rekor-key'?: string[] | undefined;
}

export function withTrustFlags<T>(y: Argv<T>): Argv<T & TrustArgs> {
  return y
    .option('require-signed-by', { type: 'string', array: true, nargs: 1, describe: "a publisher's cosign public key (cosign.pub); repeatable, any one suffices: refuse (exit 5) every image it did not sign" })
    .option('signed-identity', { choices: IDENTITY_RULES, describe: 'how the name a signature was made for must match the image (default matchRepository, which is what cosign writes)' })
    .option('rekor-key', { type: 'string', array: true, nargs: 1, describe: "Rekor's public key: a .sig signature must also carry a Rekor SET it signed (checked offline, never fetched)" })
    // Shown after the command's own flags (help-text.ts declares that group first).
    .group(['require-signed-by', 'signed-identity', 'rekor-key'], 'Signature policy (docs/signatures.md):') as unknown as Argv<T & TrustArgs>;
}

/** The policy the flags and a spec's `policy:` section ask for; undefined when neither does. */
export async function trustPolicyFrom(args: TrustArgs, specFile?: string): Promise<TrustPolicy | undefined> {
  const keys = args['require-signed-by'] ?? [];
  if (keys.length === 0 && (args['signed-identity'] || args['rekor-key']?.length)) {
    throw new UsageError('--signed-identity and --rekor-key go with --require-signed-by KEY.pub');
  }
  const spec = specFile ? parseSpec(await readFile(specFile, 'utf8'), specFile).policy : [];
  return loadTrustPolicy(spec, { keys, rekorKeys: args['rekor-key'] ?? [], ...(args['signed-identity'] ? { identity: args['signed-identity'] } : {}) });
}
