import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layering of design §2, enforced (ggcr's depcheck_test.go): arrows point one
// way, and library code neither prints nor exits.

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Which top-level layers each layer may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  store: ['core'],
  'registry/api': ['core'],
  'registry/client': ['core', 'registry/api'],
  'registry/server': ['core', 'registry/api', 'store'],
  bundle: ['core'],
  trust: ['core'],
  transfer: ['core', 'store', 'registry/api', 'registry/client', 'bundle', 'trust'],
  doctor: ['core', 'registry/api', 'registry/client'],
  k8s: ['core', 'store', 'registry/api', 'registry/client', 'bundle', 'trust', 'transfer'],
  demo: ['core', 'store', 'registry/api', 'registry/client', 'registry/server', 'bundle', 'trust', 'transfer'],
  release: ['core', 'bundle'],
  cli: ['core', 'store', 'registry/api', 'registry/client', 'registry/server', 'bundle', 'trust', 'transfer', 'doctor', 'k8s', 'demo', 'release'],
};

function layerOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel[0] === 'registry' ? `registry/${rel[1]}` : (rel[0] ?? '');
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const files = sources(SRC).filter((f) => relative(SRC, f) !== 'index.ts');

/** Relative imports of a source file, resolved to absolute paths. */
function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'"]*from\s+'(\.[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!));
}

/**
 * Layers another layer may enter past their index.ts, each with the reason. Keep it
 * short: an entry here is debt, not a design.
 */
const ENTERED_PAST_INDEX: Record<string, string> = {
  core:
    'the shared vocabulary: ~340 imports from every layer name core files directly; core/index.ts re-exports them all, ' +
    'the rewrite is one mechanical commit left until the open branches of this round are merged',
  transfer:
    'has no index.ts yet: cli, k8s and demo name ~45 transfer files while other branches edit those commands; ' +
    'add transfer/index.ts and rewrite them after the merge',
};

/** The store faces (store/faces.ts) are what other layers hold; only the opener (cli, demo) names the class. */
const MAY_NAME_STORE_CLASS = ['cli', 'demo'];

describe('architecture', () => {
  it('every source file belongs to a known layer', () => {
    const unknown = files.filter((f) => !(layerOf(f) in ALLOWED)).map((f) => relative(SRC, f));
    expect(unknown).toEqual([]);
  });

  it('imports point down the layers only', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to !== from && !ALLOWED[from]?.includes(to)) violations.push(`${relative(SRC, file)} → ${to}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('a layer is entered from another only through its index.ts', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to === from || to in ENTERED_PAST_INDEX) continue;
        if (relative(join(SRC, to), target) !== 'index.js') violations.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('outside cli and demo the store is held by its faces, never the concrete Store class', () => {
    const offenders = files
      .filter((f) => !['store', ...MAY_NAME_STORE_CLASS].includes(layerOf(f)))
      .filter((f) => /import[^;]*\bStore\b[^;]*from\s+'[^']*store\/index\.js'/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('library code does not print or exit (only src/cli does)', () => {
    const offenders = files
      .filter((f) => layerOf(f) !== 'cli')
      .filter((f) => /\bconsole\.(log|error|warn|info)\(|\bprocess\.exit\(|process\.(stdout|stderr)\.write\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });
});
