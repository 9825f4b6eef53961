import { describe, expect, it } from 'vitest';
import { parseUstarHeader, ustarChecksum, ustarHeader, ustarOctal, ustarSize } from '../../src/bundle/ustar.js';

// ustarSize reads a header's size field byte by byte. It must accept and refuse
// exactly what the string form it replaced did (text up to the first NUL,
// trimmed, then only octal digits), since the head reader and locateBlobs both
// decide a bundle's framing with it: a field read differently frames entries
// differently. The checksum field is read by the same rule (ustarOctal), by
// both: the head reader's string form and locateBlobs' own parser had two rules.

/** The string form ustarSize replaced: the oracle. */
function bySpec(field: Uint8Array): number {
  const text = Buffer.from(field).toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : Number.NaN;
}

function withSize(field: Uint8Array): Buffer {
  const header = Buffer.alloc(512);
  header.set(field, 124);
  return header;
}

const bytes = (s: string): Buffer => Buffer.from(s.padEnd(12, '\0').slice(0, 12), 'latin1');

describe('ustarSize', () => {
  it.each([
    ['00000001750\0', 1000],
    ['1750\0\0\0\0\0\0\0\0', 1000],
    ['  1750 \0', 1000],
    ['\t1750\r\0', 1000],
    ['\xa01750\xa0\0', 1000],
    ['1750\0garbage', 1000],
    ['17 50\0', NaN],
    ['1758\0', NaN],
    ['-1750\0', NaN],
    ['\0', NaN],
    ['    \0', NaN],
    ['77777777777\0', 8 ** 11 - 1],
    ['777777777777', 8 ** 12 - 1],
  ])('%j → %s', (field, size) => {
    expect(ustarSize(withSize(bytes(field)))).toBe(size);
    expect(bySpec(bytes(field))).toBe(size);
  });

  it('reads what ustarHeader writes, octal and base-256', () => {
    for (const size of [0, 1, 511, 512, 1000, 8 ** 11 - 1, 8 ** 11, 9 * 2 ** 30]) {
      expect(ustarSize(ustarHeader('blobs/sha256/x', size, new Date(0)))).toBe(size);
    }
  });

  it('agrees with the string form on 20,000 fields drawn from digits, spaces, NULs and other bytes', () => {
    const alphabet = [...'01234567 ', '\0', '\t', '\n', '\xa0', '9', 'a', '\x80', '\xff'].map((c) => c.charCodeAt(0));
    let seed = 42;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 20_000; n++) {
      const field = new Uint8Array(12).map(() => alphabet[next() % alphabet.length] as number);
      // A base-256 field starts 0x80: another rule, checked above.
      if (field[0] === 0x80) field[0] = 0x30;
      expect(ustarSize(withSize(field)), Buffer.from(field).toString('latin1')).toBe(bySpec(field));
    }
  });

  it('the checksum field: one rule for both readers, the same as the size\'s', () => {
    const header = ustarHeader('blobs/sha256/x', 1000, new Date(0));
    expect(ustarOctal(header, 148, 8)).toBe(ustarChecksum(header));
    expect(parseUstarHeader(header)?.size).toBe(1000);
    // Digits, a space, digits: the old blob-ranges parser stopped at the space and read 0o123; the rule refuses it.
    const split = Buffer.from(header);
    split.write('123 45\0 ', 148, 'latin1');
    expect(ustarOctal(split, 148, 8)).toBeNaN();
    expect(parseUstarHeader(split)).toBeUndefined();
    // The checksum written with trailing spaces instead of NUL and space still reads.
    const padded = Buffer.from(header);
    padded.write(`${ustarChecksum(header).toString(8).padStart(6, '0')}  `, 148, 'latin1');
    expect(ustarOctal(padded, 148, 8)).toBe(ustarChecksum(padded));
    expect(parseUstarHeader(padded)?.size).toBe(1000);
  });
});
