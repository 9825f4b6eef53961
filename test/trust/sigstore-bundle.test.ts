import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/digest.js';
import { parseReference } from '../../src/core/reference.js';
import { checkSigstoreBundle, dsseSigner, parseTrustedKey, verifyImage, type Attachment, type TrustRule } from '../../src/trust/index.js';
import { cosignKey, dsseBundle, testImage } from '../helpers/cosign-signer.js';
import { FIXTURES } from './cosign-fixtures.js';

// Key-based Sigstore bundles (cosign 3's default). The DSSE and message
// signature checks are pinned to bytes sigstore-js made (its fixtures sign
// "hello, world!"); the image rules (in-toto subject, predicate type,
// identity) run on bundles made here the way cosign 3 makes them.

const js = (file: string) => readFileSync(join(FIXTURES, 'sigstore-js', file));
const jsKey = (file: string) => parseTrustedKey(js(file).toString('utf8'), file);
const HELLO = Buffer.from('hello, world!');

describe('Sigstore bundles made by sigstore-js', () => {
  it('verifies a DSSE envelope (PAE) with the key that made it, and not with another', () => {
    const bundle = JSON.parse(js('dsse-with-public-key.bundle.json').toString('utf8')) as { dsseEnvelope: unknown };
    expect(dsseSigner(bundle.dsseEnvelope, [jsKey('key-1.pub')])?.source).toBe('key-1.pub');
    expect(dsseSigner(bundle.dsseEnvelope, [jsKey('message-key.pub')])).toBeUndefined();
  });

  it('verifies a message signature over the artifact bytes, and checks its digest', () => {
    const bytes = js('message-signature.bundle.json');
    expect(checkSigstoreBundle(bytes, digestOf(HELLO), HELLO, [jsKey('message-key.pub')], [])).toMatchObject({ kind: 'signed' });
    expect(checkSigstoreBundle(bytes, digestOf(HELLO), HELLO, [jsKey('key-1.pub')], [])).toMatchObject({ kind: 'refused', reason: 'unknown-key' });
    const other = Buffer.from('goodbye');
    expect(checkSigstoreBundle(bytes, digestOf(other), other, [jsKey('message-key.pub')], [])).toMatchObject({ kind: 'refused', reason: 'other-manifest' });
  });

  it('refuses a certificate-based bundle as keyless', () => {
    const bundle = JSON.parse(js('dsse-with-public-key.bundle.json').toString('utf8')) as Record<string, unknown>;
    bundle.verificationMaterial = { x509CertificateChain: { certificates: [{ rawBytes: 'AAAA' }] } };
    expect(checkSigstoreBundle(Buffer.from(JSON.stringify(bundle)), digestOf(HELLO), HELLO, [jsKey('key-1.pub')], [])).toMatchObject({ kind: 'refused', reason: 'keyless' });
  });
});

describe('a cosign 3 image signature (DSSE in-toto bundle referrer)', () => {
  const publisher = cosignKey();
  const stranger = cosignKey();
  const image = testImage('bundle');
  const other = testImage('other');
  const name = parseReference('registry.example/acme/api:1.4');
  const rule = (over: Partial<TrustRule> = {}): TrustRule => ({ keys: [parseTrustedKey(publisher.publicPem, 'publisher.pub')], identity: 'matchRepository', rekorKeys: [], ...over });
  const check = (bundle: Buffer, over: Partial<TrustRule> = {}) => {
    const attachments: Attachment[] = [{ kind: 'sigstore-bundle', bundle, carrier: digestOf(bundle) }];
    return verifyImage({ name, manifest: async () => image.manifest.bytes, attachments }, rule(over));
  };

  it('is accepted with the publisher key, with and without a subject name', async () => {
    expect((await check(dsseBundle(image.manifest.digest, publisher))).verdict).toMatchObject({ ok: true, format: 'sigstore-bundle', keyId: rule().keys[0]!.id });
    expect((await check(dsseBundle(image.manifest.digest, publisher, { name: 'registry.example/acme/api' }))).verdict).toMatchObject({ ok: true, signedIdentity: 'registry.example/acme/api' });
  });

  it('gives each refusal its reason', async () => {
    expect((await check(dsseBundle(image.manifest.digest, stranger))).verdict).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect((await check(dsseBundle(other.manifest.digest, publisher))).verdict).toMatchObject({ ok: false, reason: 'other-manifest' });
    expect((await check(dsseBundle(image.manifest.digest, publisher, { name: 'registry.example/evil/api' }))).verdict).toMatchObject({ ok: false, reason: 'identity-mismatch' });
    // A bundle binds no name: a rule that wants the tag cannot be met.
    expect((await check(dsseBundle(image.manifest.digest, publisher), { identity: 'matchExact' })).verdict).toMatchObject({ ok: false, reason: 'identity-mismatch' });
    // Rekor entries of bundles are not checked: with --rekor-key they are refused, never waved through.
    const rekor = parseTrustedKey(cosignKey().publicPem, 'rekor.pub');
    expect((await check(dsseBundle(image.manifest.digest, publisher), { rekorKeys: [rekor] })).verdict).toMatchObject({ ok: false, reason: 'transparency-log' });
  });

  it('does not count an attestation (another predicate type) as a signature', async () => {
    const { verdict } = await check(dsseBundle(image.manifest.digest, publisher, { predicateType: 'https://slsa.dev/provenance/v1' }));
    expect(verdict).toMatchObject({ ok: false, reason: 'no-signature' });
    expect(!verdict.ok && verdict.detail).toContain('ignored 1 attachment');
  });
});
