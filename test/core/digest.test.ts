import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestFromHex, digestHex, digestOf, isDigest, parseDigest, type Digest } from '../../src/core/digest.js';
import { failure } from '../helpers/thrown.js';

const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABC = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const HEX = 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';

describe('parseDigest', () => {
  it('accepts sha256 with 64 lowercase hex and returns it unchanged', () => {
    expect(parseDigest(`sha256:${HEX}`)).toBe(`sha256:${HEX}`);
    expect(parseDigest(EMPTY)).toBe(EMPTY);
  });

  it.each([
    ['uppercase hex', `sha256:${HEX.toUpperCase()}`],
    ['63 hex', `sha256:${HEX.slice(1)}`],
    ['65 hex', `sha256:${HEX}0`],
    ['non-hex', `sha256:${'g'.repeat(64)}`],
    ['no algorithm', HEX],
    ['empty', ''],
    ['only a colon', ':'],
    ['trailing newline', `sha256:${HEX}\n`],
    ['leading space', ` sha256:${HEX}`],
    ['uppercase algorithm', `SHA256:${HEX}`],
    ['two colons', `sha256:${HEX}:x`],
  ])('rejects %s with ERR_DIGEST_INVALID, exit 2', (_label, value) => {
    const err = failure(() => parseDigest(value));
    expect(err.code).toBe('ERR_DIGEST_INVALID');
    expect(err.exitCode).toBe(2);
  });

  it.each([
    ['md5', 'md5:d41d8cd98f00b204e9800998ecf8427e'],
    ['sha512', `sha512:${'ab'.repeat(64)}`],
    ['sha256+b64u', 'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564'],
  ])('rejects algorithm %s with ERR_DIGEST_ALGORITHM naming it', (algorithm, value) => {
    const err = failure(() => parseDigest(value));
    expect(err.code).toBe('ERR_DIGEST_ALGORITHM');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`'${algorithm}'`);
    expect(err.message).toContain('sha256 only');
  });

  it('rejects non-strings from untrusted JSON', () => {
    expect(failure(() => parseDigest(42 as unknown as string)).code).toBe('ERR_DIGEST_INVALID');
    expect(failure(() => parseDigest(undefined as unknown as string)).code).toBe('ERR_DIGEST_INVALID');
  });
});

describe('isDigest', () => {
  it('is true exactly for sha256:<64 lowercase hex>', () => {
    expect(isDigest(EMPTY)).toBe(true);
    expect(isDigest(`sha256:${HEX.toUpperCase()}`)).toBe(false);
    expect(isDigest(`sha256:${HEX.slice(1)}`)).toBe(false);
    expect(isDigest(`sha512:${HEX}`)).toBe(false);
    expect(isDigest(HEX)).toBe(false);
    expect(isDigest(`${EMPTY}\n`)).toBe(false);
    expect(isDigest(null)).toBe(false);
    expect(isDigest({ toString: () => EMPTY })).toBe(false);
  });
});

describe('digestOf', () => {
  it('matches known sha256 vectors', () => {
    expect(digestOf('')).toBe(EMPTY);
    expect(digestOf(new Uint8Array(0))).toBe(EMPTY);
    expect(digestOf('abc')).toBe(ABC);
    expect(digestOf(Buffer.from('abc'))).toBe(ABC);
    // The OCI empty descriptor's digest.
    expect(digestOf('{}')).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('equals node:crypto sha256 of arbitrary bytes, strings hashed as UTF-8', () => {
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff);
    expect(digestOf(bytes)).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    expect(digestOf('héllo ✓')).toBe(digestOf(Buffer.from('héllo ✓', 'utf8')));
    expect(isDigest(digestOf(bytes))).toBe(true);
  });
});

describe('digestHex / digestFromHex', () => {
  it('round-trips', () => {
    const d = parseDigest(`sha256:${HEX}`);
    expect(digestHex(d)).toBe(HEX);
    expect(digestFromHex(HEX)).toBe(d);
    expect(digestFromHex(digestHex(EMPTY as Digest))).toBe(EMPTY);
  });

  it('digestFromHex validates its input', () => {
    expect(failure(() => digestFromHex(HEX.toUpperCase())).code).toBe('ERR_DIGEST_INVALID');
    expect(failure(() => digestFromHex('abc')).code).toBe('ERR_DIGEST_INVALID');
  });
});
