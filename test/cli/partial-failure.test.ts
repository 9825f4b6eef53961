import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LISTED_FAILURES } from '../../src/core/limits.js';
import { createOutput, partialMessage } from '../../src/cli/output.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';

// Issue 13.3: a partial failure (exit 7) ends with the failures as errors, not
// with `wrote …`; under --json the document has `ok: false`, the error shape the
// docs promise, and the result.

const dir = mkdtempSync(join(tmpdir(), 'ferry-partial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!rigContext().available)('partial failure (exit 7)', () => {
  const refs = (): string[] => {
    const rig = seededRig();
    return [`${rig.source.host}/${rig.images.images.docker.reference}`, `${rig.source.host}/ferry-test/nope:9.9`];
  };

  it('export: the last lines are `ferry: error: 1 of 2 images failed:` and the image with its cause', async () => {
    const r = await ferry(['export', ...refs(), '-o', join(dir, 'human.tar'), '--plain-http', '--retries', '0', '--store', join(dir, 'store')]);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toMatch(/^wrote /m);
    expect(r.stderr).not.toMatch(/ferry: warning:/);
    const lines = r.stderr.trimEnd().split('\n');
    const first = lines.findIndex((l) => l === 'ferry: error: 1 of 2 images failed:');
    expect(first, r.stderr).toBeGreaterThanOrEqual(0);
    expect(lines[first + 1]).toMatch(/^ferry: error: {3}.*ferry-test\/nope:9\.9: .+/);
    expect(lines.at(-1)).toMatch(/^ {2}hint: /);
  });

  it('export --json: ok false, error {code,message,hint,exitCode}, and the result', async () => {
    const r = await ferry(['export', ...refs(), '-o', join(dir, 'json.tar'), '--plain-http', '--retries', '0', '--store', join(dir, 'store'), '--json']);
    expect(r.code, r.stderr).toBe(7);
    const doc = r.json as { ok: boolean; error: Record<string, unknown>; images: unknown[]; failed: Array<{ subject: string }>; bundle: { files: string[] } };
    expect(doc).toMatchObject({ ok: false, error: { code: 'ERR_PARTIAL', exitCode: 7 } });
    expect(doc.error.message).toMatch(/^1 of 2 images failed:\n {2}.*nope:9\.9: /);
    expect(typeof doc.error.hint).toBe('string');
    expect(doc.images).toHaveLength(1);
    expect(doc.failed[0]?.subject).toContain('nope:9.9');
    expect(doc.bundle.files).toEqual([join(dir, 'json.tar')]);
  });

  it('a whole success says ok: true in its document', async () => {
    const r = await ferry(['export', refs()[0] ?? '', '-o', join(dir, 'ok.tar'), '--plain-http', '--store', join(dir, 'store'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, images: [{}] });
  });
});

// A mirroring job of 1,000 images whose registry went away named every one on stderr: the first
// LISTED_FAILURES are named, the rest counted by error code; --json's document keeps them all.
describe('many failures', () => {
  it('names the first ones a line each and counts the rest by code; the JSON result keeps every one', () => {
    const failures = Array.from({ length: LISTED_FAILURES + 7 }, (_, i) => ({
      subject: `registry.example/app:v${i}`,
      error: i % 3 === 2 ? { code: 'ERR_NOT_FOUND', message: `app:v${i} not found` } : { code: 'ERR_NETWORK', message: 'connection refused' },
    }));
    const lines = partialMessage(failures, { total: 100, noun: 'images' }).split('\n');
    expect(lines[0]).toBe(`${failures.length} of 100 images failed:`);
    expect(lines.slice(1, -1)).toEqual(failures.slice(0, LISTED_FAILURES).map((f) => `  ${f.subject}: ${f.error.message}`));
    const rest = failures.slice(LISTED_FAILURES);
    const notFound = rest.filter((f) => f.error.code === 'ERR_NOT_FOUND').length;
    expect(lines.at(-1)).toBe(`  and 7 more (${7 - notFound}: ERR_NETWORK, ${notFound}: ERR_NOT_FOUND): --json lists every one`);
    let out = '';
    const output = createOutput({ json: true, quiet: false }, { write: (s: string) => (out += s) } as unknown as NodeJS.WritableStream, { write: () => true } as unknown as NodeJS.WritableStream);
    expect(output.outcome({ failed: failures }, () => '', failures, { total: 100, noun: 'images' })).toBe(7);
    expect((JSON.parse(out) as { failed: unknown[] }).failed).toHaveLength(failures.length);
  });
});
