import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { NotFoundError, UsageError } from '../core/errors.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// The manifest files a rewrite reads: a file as given, or every .yaml/.yml/.json
// under a directory (hidden entries skipped, symlinked directories not
// followed), in a stable order. Each keeps a path relative to its input, which
// is where it lands under -o OUTDIR.

export interface ManifestFile {
  /** Absolute path. */
  path: string;
  /** Where it goes under an output directory. */
  relative: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

async function walk(root: string, dir: string, out: ManifestFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort(byCodeUnits((e) => e.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, path, out);
    else if ((entry.isFile() || entry.isSymbolicLink()) && EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      if ((await stat(path).catch(() => undefined))?.isFile()) out.push({ path, relative: relative(root, path) });
    }
  }
}

export async function findManifestFiles(inputs: readonly string[]): Promise<ManifestFile[]> {
  if (inputs.length === 0) throw new UsageError('no manifests given: -f FILE|DIR');
  const out: ManifestFile[] = [];
  for (const input of inputs) {
    const path = resolve(input);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new NotFoundError(`${input} not found`);
    if (info.isDirectory()) await walk(path, path, out);
    else out.push({ path, relative: basename(path) });
  }
  const byRelative = new Map<string, string>();
  const unique = new Map<string, ManifestFile>();
  for (const f of out) {
    const other = byRelative.get(f.relative);
    if (other !== undefined && other !== f.path) throw new UsageError(`${f.path} and ${other} would both be written as ${f.relative}`, { hint: 'rewrite them in separate runs, or give their common parent directory' });
    byRelative.set(f.relative, f.path);
    if (!unique.has(f.path)) unique.set(f.path, f);
  }
  return [...unique.values()];
}
