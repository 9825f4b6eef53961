import { describe, expect, it } from 'vitest';
import { COSIGN_SET_ANNOTATION, COSIGN_SIGNATURE_ANNOTATION, type RefusalReason } from '../../src/trust/index.js';
import { checkFixture, key, signatureFile, withAnnotations, type FixtureCheck } from './cosign-fixtures.js';

// Every containers/image fixture through ferry's verifier, with the result its
// upstream test expects (signature/policy_eval_sigstore_test.go; the table in
// test/fixtures/cosign/SOURCES.md). "accepted" rows name the key that must be
// reported; "rejected" rows name ferry's reason.

const VALID = 'dir-img-cosign-valid';
const VALID_REF = '192.168.64.2:5000/cosign-signed-single-sample';
const REKOR = 'dir-img-cosign-key-rekor-valid';
const REKOR_REF = '192.168.64.2:5000/cosign-signed/key-1';

type Row = { name: string; check: () => FixtureCheck; accepted: string } | { name: string; check: () => FixtureCheck; rejected: RefusalReason };

const rows: Row[] = [
  // TestPRSigstoreSignedIsRunningImageAllowed / IsSignatureAccepted, key-based
  { name: 'valid, matchRepository', check: () => ({ dir: VALID, ref: VALID_REF, keys: ['cosign.pub'] }), accepted: 'cosign.pub' },
  { name: 'valid, keys cosign+cosign2', check: () => ({ dir: VALID, ref: VALID_REF, keys: ['cosign.pub', 'cosign2.pub'] }), accepted: 'cosign.pub' },
  { name: 'valid, keys cosign2+cosign', check: () => ({ dir: VALID, ref: VALID_REF, keys: ['cosign2.pub', 'cosign.pub'] }), accepted: 'cosign.pub' },
  { name: 'valid, matchExact (cosign signs no tag)', check: () => ({ dir: VALID, ref: VALID_REF, keys: ['cosign.pub'], identity: 'matchExact' }), rejected: 'identity-mismatch' },
  { name: 'valid, other ref testing/manifest:notlatest', check: () => ({ dir: VALID, ref: 'testing/manifest:notlatest', keys: ['cosign.pub'] }), rejected: 'identity-mismatch' },
  { name: 'valid, exact this/does-not:match', check: () => ({ dir: VALID, ref: 'this/does-not:match', keys: ['cosign.pub'], identity: 'matchExact' }), rejected: 'identity-mismatch' },
  { name: 'valid-2: two valid signatures', check: () => ({ dir: 'dir-img-cosign-valid-2', ref: VALID_REF, keys: ['cosign.pub'] }), accepted: 'cosign.pub' },
  { name: 'valid-2, ref this/does-not:match', check: () => ({ dir: 'dir-img-cosign-valid-2', ref: 'this/does-not:match', keys: ['cosign.pub'] }), rejected: 'identity-mismatch' },
  { name: 'valid-with-tag, matchExact :tag', check: () => ({ dir: 'dir-img-cosign-valid-with-tag', ref: '192.168.64.2:5000/skopeo-signed:tag', keys: ['cosign.pub'], identity: 'matchExact' }), accepted: 'cosign.pub' },
  { name: 'valid-with-tag, matchExact :othertag', check: () => ({ dir: 'dir-img-cosign-valid-with-tag', ref: '192.168.64.2:5000/skopeo-signed:othertag', keys: ['cosign.pub'], identity: 'matchExact' }), rejected: 'identity-mismatch' },
  { name: 'mixed: unknown key, then valid', check: () => ({ dir: 'dir-img-cosign-mixed', ref: VALID_REF, keys: ['cosign.pub'] }), accepted: 'cosign.pub' },
  { name: 'modified manifest', check: () => ({ dir: 'dir-img-cosign-modified-manifest', ref: VALID_REF, keys: ['cosign.pub'] }), rejected: 'other-manifest' },
  { name: 'no manifest', check: () => ({ dir: 'dir-img-cosign-no-manifest', ref: VALID_REF, keys: ['cosign.pub'] }), rejected: 'unreadable-manifest' },
  { name: 'schema1 manifest (digest error)', check: () => ({ dir: 'dir-img-cosign-manifest-digest-error', ref: VALID_REF, keys: ['cosign.pub'] }), rejected: 'unreadable-manifest' },
  { name: 'only a non-signature attachment', check: () => ({ dir: 'dir-img-cosign-other-attachment', ref: 'testing/manifest:latest', keys: ['cosign.pub'] }), rejected: 'no-signature' },
  { name: 'valid signature by an unknown key', check: () => ({ dir: VALID, ref: VALID_REF, keys: ['cosign.pub'], signatures: [signatureFile('unknown-cosign-key.signature')] }), rejected: 'unknown-key' },
  {
    name: 'no cryptographic signature (annotations dropped)',
    check: () => ({ dir: VALID, ref: VALID_REF, keys: ['cosign.pub'], signatures: [withAnnotations(signatureFile(`${VALID}/signature-1`), (a) => delete a[COSIGN_SIGNATURE_ANNOTATION])] }),
    rejected: 'unknown-key',
  },
  {
    name: 'a signature that does not verify',
    check: () => ({
      dir: VALID,
      ref: VALID_REF,
      keys: ['cosign.pub'],
      signatures: [withAnnotations(signatureFile(`${VALID}/signature-1`), (a) => (a[COSIGN_SIGNATURE_ANNOTATION] = Buffer.from('invalid signature').toString('base64')))],
    }),
    rejected: 'unknown-key',
  },
  // key + Rekor SET
  ...[['cosign2.pub'], ['cosign2.pub', 'cosign.pub'], ['cosign.pub', 'cosign2.pub']].flatMap((keys): Row[] =>
    [['rekor.pub'], ['rekor.pub', 'cosign.pub'], ['cosign.pub', 'rekor.pub']].map((rekorKeys) => ({
      name: `key-rekor-valid, keys ${keys.join('+')}, rekor ${rekorKeys.join('+')}`,
      check: () => ({ dir: REKOR, ref: REKOR_REF, keys, rekorKeys }),
      accepted: 'cosign2.pub',
    })),
  ),
  { name: 'key-rekor-valid, key only (no Rekor asked)', check: () => ({ dir: REKOR, ref: REKOR_REF, keys: ['cosign2.pub'] }), accepted: 'cosign2.pub' },
  {
    name: 'key-rekor, SET missing',
    check: () => ({ dir: REKOR, ref: REKOR_REF, keys: ['cosign2.pub'], rekorKeys: ['rekor.pub'], signatures: [withAnnotations(signatureFile(`${REKOR}/signature-1`), (a) => delete a[COSIGN_SET_ANNOTATION])] }),
    rejected: 'transparency-log',
  },
  {
    name: 'key-rekor, SET not a SET',
    check: () => ({ dir: REKOR, ref: REKOR_REF, keys: ['cosign2.pub'], rekorKeys: ['rekor.pub'], signatures: [withAnnotations(signatureFile(`${REKOR}/signature-1`), (a) => (a[COSIGN_SET_ANNOTATION] = 'this is not a valid SET'))] }),
    rejected: 'transparency-log',
  },
  ...[['cosign2.pub'], ['cosign2.pub', 'cosign.pub'], ['cosign.pub', 'cosign2.pub']].map(
    (keys): Row => ({ name: `key-rekor, SET checked with the wrong Rekor key (keys ${keys.join('+')})`, check: () => ({ dir: REKOR, ref: REKOR_REF, keys, rekorKeys: ['cosign.pub'] }), rejected: 'transparency-log' }),
  ),
  {
    name: 'key-rekor, SET moved onto another signature',
    check: () => {
      const set = signatureFile(`${REKOR}/signature-1`);
      const moved = withAnnotations(signatureFile(`${VALID}/signature-1`), (a) => (a[COSIGN_SET_ANNOTATION] = (set.kind === 'simple-signing' && set.annotations[COSIGN_SET_ANNOTATION]) || ''));
      return { dir: VALID, ref: VALID_REF, keys: ['cosign.pub', 'cosign2.pub'], rekorKeys: ['rekor.pub'], signatures: [moved] };
    },
    rejected: 'transparency-log',
  },
  // Certificate-based: valid upstream with Fulcio / BYO-PKI roots; ferry checks keys only.
  { name: 'fulcio-rekor-valid (keyless)', check: () => ({ dir: 'dir-img-cosign-fulcio-rekor-valid', ref: '192.168.64.2:5000/cosign-signed/fulcio-rekor-1', keys: ['cosign.pub'] }), rejected: 'keyless' },
  { name: 'pki-valid (BYO-PKI certificate)', check: () => ({ dir: 'dir-img-cosign-pki-valid', ref: 'localhost:5000/test', keys: ['cosign.pub'] }), rejected: 'keyless' },
];

describe("containers/image's cosign fixtures through ferry's verifier", () => {
  it.each(rows)('$name', async (row) => {
    const { verdict, digest } = await checkFixture(row.check());
    if ('accepted' in row) {
      expect(verdict, JSON.stringify(verdict)).toMatchObject({ ok: true, format: 'cosign-sig' });
      expect(verdict.ok && verdict.keyId).toBe(key(row.accepted).id);
      expect(digest).toMatch(/^sha256:/);
    } else {
      expect(verdict).toMatchObject({ ok: false, reason: row.rejected });
    }
  });

  it('names the fixture digests the payloads sign', async () => {
    const { digest } = await checkFixture({ dir: VALID, ref: VALID_REF, keys: ['cosign.pub'] });
    expect(digest).toBe('sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
  });
});
