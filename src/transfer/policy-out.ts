import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseReference } from '../core/reference.js';
import { containersPolicy, type ImportedSignature, type TrustedKey, type TrustPolicy } from '../trust/index.js';
import type { ImportReport } from './import.js';

// `ferry import --policy-out DIR`: the containers/image configuration that lets
// podman, CRI-O and skopeo on the site check the publisher's signatures under
// the site's names (src/trust/containers-policy.ts says how). Only images whose
// accepted signature is in the `.sig` layout (what use-sigstore-attachments
// reads) and that landed under the digest that was signed are listed.

export interface PolicyOutReport {
  files: string[];
  /** Site repository → requirement written. */
  scopes: ReturnType<typeof containersPolicy>['scopes'];
  /** Images left out, and why. */
  skipped: Array<{ source: string; why: string }>;
}

export async function writePolicyOut(dir: string, report: ImportReport, policy: TrustPolicy): Promise<PolicyOutReport> {
  const keys = new Map<string, TrustedKey>();
  for (const entry of policy.entries) for (const k of entry.rule.keys) keys.set(k.id, k);
  const imported: ImportedSignature[] = [];
  const skipped: PolicyOutReport['skipped'] = [];
  for (const verified of report.upstreamSignatures?.images ?? []) {
    const landed = report.images.find((i) => i.source === verified.source);
    const key = keys.get(verified.signedBy.keyId);
    if (!landed || !key) continue;
    if (verified.signedBy.format !== 'cosign-sig' || verified.signedBy.signedIdentity === undefined) {
      skipped.push({ source: verified.source, why: 'signed as a Sigstore bundle, which containers/image does not read' });
    } else if (landed.digest !== verified.digest) {
      skipped.push({ source: verified.source, why: `landed as ${landed.digest} (foreign layers localized), which the signature does not cover` });
    } else {
      imported.push({ target: parseReference(landed.target), source: parseReference(verified.source), key, signedIdentity: verified.signedBy.signedIdentity });
    }
  }
  const files = containersPolicy(imported);
  const policyPath = join(dir, 'policy.json');
  const yamlPath = join(dir, 'registries.d', 'ferry-sigstore.yaml');
  await mkdir(join(dir, 'registries.d'), { recursive: true });
  await writeFile(policyPath, files.policyJson);
  await writeFile(yamlPath, files.registriesDYaml);
  return { files: [policyPath, yamlPath], scopes: files.scopes, skipped };
}
