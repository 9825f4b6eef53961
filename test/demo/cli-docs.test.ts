import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// docs/cli.md is generated from the yargs definitions (scripts/gen-cli-docs.mjs
// over dist/, which `npm test` builds first). Regenerate it here and compare:
// a flag added, renamed or re-described without regenerating fails this test.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'gen-cli-docs.mjs');

let work: string;
let generated: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-cli-docs-'));
  const out = join(work, 'cli.md');
  const r = spawnSync(process.execPath, [SCRIPT, out], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  generated = await readFile(out, 'utf8');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('docs/cli.md', () => {
  it('is what the CLI definitions generate (run npm run docs:cli after changing a command)', async () => {
    const committed = await readFile(join(ROOT, 'docs', 'cli.md'), 'utf8').catch(() => '');
    const a = committed.split('\n');
    const b = generated.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    const where = line < 0 ? `it ends after line ${a.length}, the CLI gives ${b.length} lines` : `line ${line + 1} is\n  ${a[line]}\nbut the CLI gives\n  ${b[line] ?? '(nothing)'}`;
    expect(committed === generated, `docs/cli.md is out of date with the CLI definitions — run \`npm run docs:cli\` and commit the result (${where})`).toBe(true);
  });

  it('documents every command and every flag that --help shows', () => {
    const help = spawnSync(process.execPath, [join(ROOT, 'bin', 'ferry.cjs'), 'import', '--help'], { encoding: 'utf8' });
    const flags = [...help.stdout.matchAll(/^\s+(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]);
    expect(flags).toContain('foreign-layers');
    for (const flag of flags) expect(generated).toContain(`\`--${flag}\``);
    for (const cmd of ['export', 'import', 'verify', 'inspect', 'serve', 'keygen', 'store', 'inventory', 'doctor', 'k8s', 'demo']) {
      expect(generated).toContain(`\n## ferry ${cmd}\n`);
    }
  });

  it('is the same whatever the terminal (no width or environment leaks into it)', () => {
    const again = spawnSync(process.execPath, [SCRIPT, '-'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '40', FERRY_STORE: '/elsewhere', HOME: '/nonexistent' } });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(generated);
  });
});
