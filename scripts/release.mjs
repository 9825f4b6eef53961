#!/usr/bin/env node
// `npm run release`: builds dist/ (npm runs the build first), then writes
// release/ferry-<version>-<os>-<arch>.tar.gz — the release of the platform this
// runs on, reproducible (mtimes from SOURCE_DATE_EPOCH, default the commit
// time of HEAD) — and prints its size, sha256 and the floor it needs.
//
//   npm run release                                   release/ferry-….tar.gz
//   npm run release -- --out DIR                      DIR/ferry-….tar.gz
//   npm run release -- --node-license FILE            Node's LICENSE, when it is not beside node
//   npm run release -- --json                         the result as JSON on stdout

import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string' }, 'node-license': { type: 'string' }, json: { type: 'boolean' } } });
const { buildRelease } = await import(new URL('../dist/release/index.js', import.meta.url).href);

try {
  const started = Date.now();
  const built = await buildRelease(ROOT, values.out ?? join(ROOT, 'release'), values['node-license'] ? { nodeLicence: values['node-license'] } : {});
  const { manifest } = built.plan;
  const result = {
    path: built.path,
    size: built.size,
    sha256: built.sha256,
    tarSha256: built.tarSha256,
    version: manifest.version,
    os: manifest.os,
    arch: manifest.arch,
    node: manifest.node,
    commit: manifest.commit,
    sourceDateEpoch: manifest.sourceDateEpoch,
    requires: manifest.requires,
    files: manifest.files.length,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const floor = Object.entries(manifest.requires).map(([k, v]) => `${k} ${v}`).join(', ') || 'none recorded';
    process.stdout.write(
      [
        `${relative(process.cwd(), built.path) || built.path}: ${(built.size / 1e6).toFixed(1)} MB, ${manifest.files.length} files, ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  sha256 ${built.sha256}`,
        `  ferry ${manifest.version} for ${manifest.os}-${manifest.arch}, Node.js ${manifest.node}, commit ${manifest.commit ?? '-'}, SOURCE_DATE_EPOCH=${manifest.sourceDateEpoch}`,
        `  needs: ${floor}`,
        '',
      ].join('\n'),
    );
  }
} catch (err) {
  process.stderr.write(`release: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}\n`);
  process.exit(err.exitCode ?? 1);
}
