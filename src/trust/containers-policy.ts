import { repositoryName, type Reference } from '../core/reference.js';
import { parseSignedIdentity } from './identity-rule.js';
import type { TrustedKey } from './trusted-key.js';

// After `ferry import` renamed images, their signatures still name the
// publisher's repository. podman, CRI-O and skopeo (containers/image) can still
// check them at the site's names, given (containers-policy.json(5),
// containers-registries.d(5)):
//   policy.json   a sigstoreSigned requirement per imported repository, with the
//                 publisher's key inline (keyData) and a signedIdentity that maps
//                 the site's name back to the signed one:
//                   remapIdentity {prefix: site repo, signedPrefix: publisher repo}
//                     when every signature names a tag (matchRepoDigestOrExact
//                     semantics after the remap);
//                   exactRepository {dockerRepository: publisher repo}
//                     when a signature names only a repository, as cosign writes
//                     them (remapIdentity would refuse those for tag pulls);
//   registries.d  use-sigstore-attachments for those repositories, so the
//                 `sha256-<digest>.sig` tags are read at all.

export interface ImportedSignature {
  /** Where the image now lives. */
  target: Pick<Reference, 'registry' | 'repository'>;
  /** The name it was verified under (the bundle's, i.e. the publisher's). */
  source: Pick<Reference, 'registry' | 'repository'>;
  key: TrustedKey;
  /** `critical.identity.docker-reference` of the accepted signature. */
  signedIdentity: string;
}

type SignedIdentity = { type: 'remapIdentity'; prefix: string; signedPrefix: string } | { type: 'exactRepository'; dockerRepository: string };

export interface ContainersPolicyFiles {
  policyJson: string;
  registriesDYaml: string;
  /** Site repository → the requirement written for it (for reports and tests). */
  scopes: Record<string, { keyIds: string[]; signedIdentity: SignedIdentity }>;
}

function requirement(entries: readonly ImportedSignature[]): { keys: TrustedKey[]; signedIdentity: SignedIdentity } {
  const [first] = entries as [ImportedSignature, ...ImportedSignature[]];
  const keys = [...new Map(entries.map((e) => [e.key.id, e.key])).values()];
  const everyTagged = entries.every((e) => Boolean(parseSignedIdentity(e.signedIdentity)?.tag));
  const signedIdentity: SignedIdentity = everyTagged
    ? { type: 'remapIdentity', prefix: repositoryName(first.target), signedPrefix: repositoryName(first.source) }
    : { type: 'exactRepository', dockerRepository: repositoryName(first.source) };
  return { keys, signedIdentity };
}

export function containersPolicy(imported: readonly ImportedSignature[]): ContainersPolicyFiles {
  const byTarget = new Map<string, ImportedSignature[]>();
  for (const i of imported) byTarget.set(repositoryName(i.target), [...(byTarget.get(repositoryName(i.target)) ?? []), i]);
  const docker: Record<string, unknown[]> = {};
  const scopes: ContainersPolicyFiles['scopes'] = {};
  for (const [scope, entries] of [...byTarget.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const { keys, signedIdentity } = requirement(entries);
    const keyData = keys.map((k) => Buffer.from(k.pem).toString('base64'));
    // keyDatas (several keys) needs containers/image 5.32.2 or later (containers/image#2524); one key is the common case and works everywhere.
    docker[scope] = [{ type: 'sigstoreSigned', ...(keyData.length === 1 ? { keyData: keyData[0] } : { keyDatas: keyData }), signedIdentity }];
    scopes[scope] = { keyIds: keys.map((k) => k.id), signedIdentity };
  }
  const policy = { default: [{ type: 'reject' }], transports: { docker } };
  const yaml = [
    '# Written by `ferry import --policy-out`: read the sigstore signatures (sha256-<digest>.sig tags)',
    '# of the imported repositories. See containers-registries.d(5).',
    'docker:',
    ...Object.keys(docker).flatMap((scope) => [`  ${JSON.stringify(scope)}:`, '    use-sigstore-attachments: true']),
    '',
  ].join('\n');
  return { policyJson: `${JSON.stringify(policy, null, 2)}\n`, registriesDYaml: yaml, scopes };
}
