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
  bundle: ['core', 'store'],
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

describe('architecture', () => {
  it('every source file belongs to a known layer', () => {
    const unknown = files.filter((f) => !(layerOf(f) in ALLOWED)).map((f) => relative(SRC, f));
    expect(unknown).toEqual([]);
  });

  it('imports point down the layers only', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'"]*from\s+'(\.[^']+)'/g)) {
        const to = layerOf(resolve(dirname(file), m[1]!));
        if (to !== from && !ALLOWED[from]?.includes(to)) violations.push(`${relative(SRC, file)} → ${to}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('library code does not print or exit (only src/cli does)', () => {
    const offenders = files
      .filter((f) => layerOf(f) !== 'cli')
      .filter((f) => /\bconsole\.(log|error|warn|info)\(|\bprocess\.exit\(|process\.(stdout|stderr)\.write\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });
});
