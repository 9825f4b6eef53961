import { describe, expect, it } from 'vitest';
import { parseBundleJson, serializeBundleJson, type BundleJson } from '../../src/bundle/index.js';
import { digestOf } from '../../src/core/digest.js';
import { parseReference } from '../../src/core/reference.js';
import { containersPolicy, identityMatches, parseTrustedKey, refusalLine, repositoryPattern, ruleFor, UntrustedImagesError, type ImageRefusal, type TrustRule } from '../../src/trust/index.js';
import { LISTED_FAILURES } from '../../src/core/limits.js';
import { reportError } from '../../src/cli/error-boundary.js';
import { signersLine } from '../../src/cli/signers.js';
import { parseSpecPolicy } from '../../src/transfer/spec-policy.js';
import { cosignKey } from '../helpers/cosign-signer.js';

// The rules around the verifier: identity matching as containers/image does
// it, repository patterns (first match decides), the policy.json written for
// renamed images, the spec's policy section, and bundle.json's new field.

const ref = parseReference;

describe('identity rules', () => {
  it.each([
    ['matchRepository', 'busybox:latest', 'index.docker.io/library/busybox', true],
    ['matchRepository', 'busybox:latest', 'docker.io/library/busybox:1.36', true],
    ['matchRepository', 'busybox:latest', 'docker.io/library/alpine', false],
    ['matchExact', 'reg.example/a/b:1.0', 'reg.example/a/b:1.0', true],
    ['matchExact', 'reg.example/a/b:1.0', 'reg.example/a/b', false],
    ['matchExact', 'reg.example/a/b:1.0', 'reg.example/a/b:2.0', false],
    ['matchRepoDigestOrExact', 'reg.example/a/b:1.0', 'reg.example/a/b:1.0', true],
    ['matchRepoDigestOrExact', 'reg.example/a/b:1.0', 'reg.example/a/b', false],
    ['matchRepoDigestOrExact', `reg.example/a/b@${digestOf('x')}`, 'reg.example/a/b:9', true],
    ['matchRepository', 'reg.example/a/b:1.0', 'not a reference!', false],
  ] as const)('%s: image %s, signed %s → %s', (rule, intended, signed, expected) => {
    expect(identityMatches(rule, ref(intended), signed)).toBe(expected);
  });
});

describe('repository patterns', () => {
  it('* stays within a path segment, ** crosses them, a literal names one repository', () => {
    expect(repositoryPattern('reg.example/acme/*').test('reg.example/acme/api')).toBe(true);
    expect(repositoryPattern('reg.example/acme/*').test('reg.example/acme/x/api')).toBe(false);
    expect(repositoryPattern('reg.example/acme/**').test('reg.example/acme/x/api')).toBe(true);
    expect(repositoryPattern('reg.example/acme/api').test('reg.example/acme/api2')).toBe(false);
    expect(repositoryPattern('127.0.0.1:5000/acme/*').test('127.0.0.1:5000/acme/api')).toBe(true);
    expect(() => repositoryPattern('reg.example/acme/api:1.0')).toThrow(/no tag/);
    expect(repositoryPattern('**').test('docker.io/library/nginx')).toBe(true);
    expect(() => repositoryPattern('reg.example/acme/api@sha256:00')).toThrow(/no tag/);
  });

  it('the first entry that matches decides; an image no entry covers has no rule', () => {
    const rule = (identity: TrustRule['identity']): TrustRule => ({ keys: [], identity, rekorKeys: [] });
    const policy = { entries: [{ pattern: 'reg.example/acme/api', rule: rule('matchExact') }, { pattern: 'reg.example/acme/**', rule: rule('matchRepository') }] };
    expect(ruleFor(policy, ref('reg.example/acme/api:1'))?.identity).toBe('matchExact');
    expect(ruleFor(policy, ref('reg.example/acme/web:1'))?.identity).toBe('matchRepository');
    expect(ruleFor(policy, ref('other.example/acme/web:1'))).toBeUndefined();
  });
});

describe('policy.json for renamed images', () => {
  const a = parseTrustedKey(cosignKey().publicPem, 'a.pub');
  const b = parseTrustedKey(cosignKey().publicPem, 'b.pub');
  const target = ref('site.local/mirror/acme/api:1');
  const source = ref('reg.example/acme/api:1');

  it('remaps when every signature names a tag, names the repository when one does not, keyDatas for several keys', () => {
    const tagged = containersPolicy([{ target, source, key: a, signedIdentity: 'reg.example/acme/api:1' }]);
    expect(tagged.scopes['site.local/mirror/acme/api']).toEqual({ keyIds: [a.id], signedIdentity: { type: 'remapIdentity', prefix: 'site.local/mirror/acme/api', signedPrefix: 'reg.example/acme/api' } });
    const mixed = containersPolicy([
      { target, source, key: a, signedIdentity: 'reg.example/acme/api:1' },
      { target, source, key: b, signedIdentity: 'reg.example/acme/api' },
    ]);
    expect(mixed.scopes['site.local/mirror/acme/api']?.signedIdentity).toEqual({ type: 'exactRepository', dockerRepository: 'reg.example/acme/api' });
    const doc = JSON.parse(mixed.policyJson) as { transports: { docker: Record<string, Array<Record<string, unknown>>> } };
    expect(doc.transports.docker['site.local/mirror/acme/api']?.[0]?.keyDatas).toHaveLength(2);
  });
});

describe("the spec's policy section", () => {
  it('resolves key paths against the spec file and defaults the identity rule', () => {
    expect(parseSpecPolicy([{ repositories: 'reg.example/acme/**', keys: ['keys/acme.pub'] }], '/etc/ferry/spec.yaml')).toEqual([
      { patterns: ['reg.example/acme/**'], keys: ['/etc/ferry/keys/acme.pub'], identity: 'matchRepository', rekorKeys: [] },
    ]);
  });

  it.each([
    [{ repositories: 'r/a', keys: ['k'], identity: 'matchAnything' }, /identity: must be one of/],
    [{ repositories: 'r/a', keys: [] }, /keys: must be/],
    [{ repositories: 'r/a:1', keys: ['k'] }, /no tag/],
    [{ repositories: 'r/a', keys: ['k'], keyPath: 'x' }, /unknown field 'keyPath'/],
  ])('refuses %j', (entry, message) => {
    expect(() => parseSpecPolicy([entry], 'spec.yaml')).toThrow(message);
  });
});

describe('bundle.json upstreamSignature', () => {
  const base: BundleJson = {
    format: 'ferry.bundle.v1',
    id: 'x'.repeat(32),
    created: '2026-12-05T00:00:00Z',
    tool: { name: 'ferry', version: '0.1.0' },
    signer: null,
    entries: { 'index.json': { digest: digestOf('a'), size: 1 }, 'ferry/index.db': { digest: digestOf('b'), size: 1 }, 'ferry/SHA256SUMS': { digest: digestOf('c'), size: 1 } },
    blobs: { count: 0, bytes: 0 },
    images: [{ name: 'reg.example/acme/api:1', digest: digestOf('m'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, platforms: [] }],
    assumes: [],
  };

  it('is optional: bundles without it read as before', () => {
    expect(parseBundleJson(serializeBundleJson(base)).images[0]).not.toHaveProperty('upstreamSignature');
  });

  it('round-trips when present and is validated', () => {
    const signed = structuredClone(base);
    signed.images[0]!.upstreamSignature = { keyId: 'sha256:0123456789abcdef', format: 'cosign-sig', signature: digestOf('s'), signedIdentity: 'reg.example/acme/api' };
    expect(parseBundleJson(serializeBundleJson(signed)).images[0]?.upstreamSignature).toEqual(signed.images[0]!.upstreamSignature);
    const broken = JSON.parse(serializeBundleJson(signed).toString('utf8')) as { images: Array<{ upstreamSignature: { signature: string } }> };
    broken.images[0]!.upstreamSignature.signature = 'nope';
    expect(() => parseBundleJson(Buffer.from(JSON.stringify(broken)))).toThrow(/upstreamSignature is malformed/);
  });
});

// A mirror of 1,000 images under the wrong key printed a line per image (178 KB on stderr): the
// first LISTED_FAILURES name their images, one more line counts the rest by reason, --json has all.
describe('refusals of many images', () => {
  const refusal = (i: number, reason: 'unknown-key' | 'identity-mismatch'): ImageRefusal => ({
    image: `registry.example/app:v${i}`,
    digest: digestOf(Buffer.from(`image ${i}`)),
    rejection: { ok: false, reason, detail: reason === 'unknown-key' ? 'signed by an unknown key' : 'signed for another repository' },
  });
  const many = Array.from({ length: LISTED_FAILURES + 15 }, (_, i) => refusal(i, i % 5 === 4 ? 'identity-mismatch' : 'unknown-key'));

  it('names the first images a line each, then counts the rest by reason in one line', () => {
    const lines = new UntrustedImagesError(many, 'hint').message.split('\n');
    expect(lines).toHaveLength(LISTED_FAILURES + 1);
    expect(lines.slice(0, LISTED_FAILURES)).toEqual(many.slice(0, LISTED_FAILURES).map(refusalLine));
    expect(lines.at(-1)).toBe(`and 15 more images refused (${many.length} in all; 12: no signature by a trusted key, 3: identity mismatch): --json lists every one`);
    expect(new UntrustedImagesError(many.slice(0, LISTED_FAILURES), 'hint').message.split('\n')).toEqual(many.slice(0, LISTED_FAILURES).map(refusalLine));
  });

  it('--json still lists every refused image', () => {
    let out = '';
    let err = '';
    const code = reportError(new UntrustedImagesError(many, 'hint'), { debug: false, json: true, stdout: { write: (s: string) => (out += s) } as unknown as NodeJS.WritableStream, stderr: { write: (s: string) => (err += s) } as unknown as NodeJS.WritableStream });
    expect(code).toBe(5);
    expect(err.trimEnd().split('\n')).toHaveLength(LISTED_FAILURES + 2);
    const refusals = (JSON.parse(out) as { refusals: Array<{ image: string }> }).refusals;
    expect(refusals.map((r) => r.image)).toEqual(many.map((r) => r.image));
  });
});

// export and import say who signed what in one line at any count (the table has each image's key).
describe('the signers line', () => {
  it('counts images per key, in the order the keys first sign, and says nothing when none is signed', () => {
    const by = (keyId: string) => ({ signedBy: { keyId } });
    expect(signersLine([by('sha256:a'), by('sha256:a')])).toBe('2 images, by sha256:a');
    expect(signersLine([by('sha256:a')])).toBe('1 image, by sha256:a');
    expect(signersLine([by('sha256:b'), {}, by('sha256:a'), by('sha256:b')])).toBe('3 images: 2 by sha256:b, 1 by sha256:a');
    expect(signersLine([{}, {}])).toBeUndefined();
  });
});
