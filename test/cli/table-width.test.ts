import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTable, outputWidth } from '../../src/cli/output.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';

// Issue 13.4: a summary table fits the terminal, or becomes one record per block
// (`KEY: value` lines) so that nothing wraps mid-digest.

const header = ['IMAGE', 'DIGEST', 'REFERRERS'];
const rows = [
  ['127.0.0.1:5977/demo/big1:1.0', `sha256:${'a'.repeat(64)}`, '0'],
  ['docker.io/library/nginx:1.25', `sha256:${'b'.repeat(64)}`, '2'],
];

describe('formatTable', () => {
  it('a table that fits stays a table with padded columns', () => {
    const text = formatTable(header, rows, 200);
    expect(text.split('\n')).toHaveLength(3);
    expect(text.split('\n')[0]).toMatch(/^IMAGE {25}DIGEST {67}REFERRERS$/);
  });

  it('too wide for the terminal: one `KEY: value` block per record, no line over the width unless one value is', () => {
    const text = formatTable(header, rows, 80);
    expect(text).toBe(
      [
        'IMAGE:     127.0.0.1:5977/demo/big1:1.0',
        `DIGEST:    sha256:${'a'.repeat(64)}`,
        'REFERRERS: 0',
        '',
        'IMAGE:     docker.io/library/nginx:1.25',
        `DIGEST:    sha256:${'b'.repeat(64)}`,
        'REFERRERS: 2',
      ].join('\n'),
    );
  });

  it('a free-text last column (doctor\'s DETAIL) wraps within its column instead', () => {
    const detail = 'registry answered 401 with a Bearer challenge; anonymous tokens refused for this repository';
    const text = formatTable(['CHECK', 'STATUS', 'DETAIL'], [['auth', 'WARN', detail], ['tcp', 'ok', 'connected']], 60, { wrapLast: true });
    const lines = text.split('\n');
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines[1]).toMatch(/^auth {3}WARN {4}registry answered/);
    expect(lines[2]).toMatch(/^ {15}\S/);
    expect(lines.slice(1, -1).map((l) => l.trim()).join(' ').replace(/^auth +WARN +/, '')).toBe(detail);
    expect(lines.at(-1)).toMatch(/^tcp {4}ok {6}connected$/);
  });

  it('the width is the terminal\'s when stdout is one, else $COLUMNS, else unbounded', () => {
    expect(outputWidth({ isTTY: true, columns: 80 })).toBe(80);
    const saved = process.env.COLUMNS;
    try {
      delete process.env.COLUMNS;
      expect(outputWidth({ isTTY: false })).toBe(Number.POSITIVE_INFINITY);
      process.env.COLUMNS = '100';
      expect(outputWidth({ isTTY: false })).toBe(100);
    } finally {
      if (saved === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = saved;
    }
  });
});

const dir = mkdtempSync(join(tmpdir(), 'ferry-width-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!rigContext().available)('the export summary in a narrow terminal', () => {
  it('COLUMNS=80: records as blocks; no output line is cut by the terminal', async () => {
    const rig = seededRig();
    const r = await ferry(['export', `${rig.source.host}/${rig.images.images.docker.reference}`, '-o', join(dir, 'w.tar'), '--plain-http', '--store', join(dir, 'store')], { env: { COLUMNS: '80' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^IMAGE: +.*ferry-test/m);
    expect(r.stdout).toMatch(/^DIGEST: +sha256:[0-9a-f]{64}$/m);
    expect(r.stdout).not.toMatch(/^IMAGE +DIGEST/m);
  });
});
