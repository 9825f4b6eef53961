import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { CHECK_ORDER } from '../../src/doctor/index.js';

// docs/troubleshooting.md is the table users land on from an error line: every
// error code ferry can print and every doctor check must have its row.

const doc = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');

describe('docs/troubleshooting.md', () => {
  it('has a row for every error code', () => {
    const missing = Object.values(ErrorCode).filter((code) => !doc.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });

  it('describes every doctor check', () => {
    const missing = CHECK_ORDER.filter((name) => !doc.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });

  it('lists every exit code 0-7', () => {
    for (let exit = 0; exit <= 7; exit++) expect(doc).toMatch(new RegExp(`^\\| ${exit} \\| `, 'm'));
  });
});
