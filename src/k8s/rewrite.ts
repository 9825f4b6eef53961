import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-write.js';
import type { ImageMapping } from './image-mapping.js';
import { findManifestFiles } from './manifest-files.js';
import { rewriteManifestText, type ImageChange, type RewriteWarning } from './rewrite-text.js';

// `ferry k8s rewrite`: every manifest is read and rewritten in memory first (a
// bad file stops the run before anything is written), then the outputs land:
// under -o DIR (unchanged files copied byte for byte, so the directory is a
// complete set for kubectl apply), in place (unchanged files not touched at
// all), on stdout, or nowhere (a preview).

export type RewriteOutput = { kind: 'preview' } | { kind: 'dir'; dir: string } | { kind: 'in-place' } | { kind: 'stdout' };

export interface RewriteOptions {
  inputs: readonly string[];
  mapping: ImageMapping;
  output: RewriteOutput;
}

export interface FileRewrite {
  path: string;
  /** Where it was written (-o DIR, --in-place). */
  output?: string;
  changed: boolean;
  changes: ImageChange[];
}

export interface RewriteReport {
  output: RewriteOutput['kind'];
  outDir?: string;
  files: FileRewrite[];
  changed: number;
  unchanged: number;
  /** Image values changed, over all files. */
  images: number;
  pinned: number;
  warnings: RewriteWarning[];
}

export interface RewriteResult {
  report: RewriteReport;
  /** For output 'stdout': each file's resulting text, in order. */
  texts: Array<{ path: string; text: string }>;
}

const MAX_MANIFEST_FILE = 16 * 1024 * 1024;

function inside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : `${parent}${sep}`);
}

async function checkOutDir(dir: string, inputs: readonly string[]): Promise<string> {
  const out = resolve(dir);
  for (const input of inputs.map((i) => resolve(i))) {
    const info = await stat(input).catch(() => undefined);
    if (info?.isDirectory() && inside(out, input)) {
      throw new UsageError(`-o ${dir} is inside the input directory ${input}`, { hint: 'write somewhere else, or use --in-place' });
    }
  }
  return out;
}

export async function rewriteManifests(options: RewriteOptions): Promise<RewriteResult> {
  const outDir = options.output.kind === 'dir' ? await checkOutDir(options.output.dir, options.inputs) : undefined;
  const files = await findManifestFiles(options.inputs);
  const rewritten: Array<{ file: (typeof files)[number]; text: string; changes: ImageChange[] }> = [];
  const warnings: RewriteWarning[] = [];
  for (const file of files) {
    const size = (await stat(file.path)).size;
    if (size > MAX_MANIFEST_FILE) throw new UsageError(`${file.path} is ${size} bytes: larger than a manifest file should be (16 MiB)`);
    const text = await readFile(file.path, 'utf8');
    const result = await rewriteManifestText(text, relative(process.cwd(), file.path) || file.path, options.mapping);
    rewritten.push({ file, text: result.text, changes: result.changes });
    warnings.push(...result.warnings);
  }
  const report: RewriteReport = { output: options.output.kind, files: [], changed: 0, unchanged: 0, images: 0, pinned: 0, warnings };
  if (outDir) report.outDir = outDir;
  const texts: RewriteResult['texts'] = [];
  for (const { file, text, changes } of rewritten) {
    const changed = changes.length > 0;
    const entry: FileRewrite = { path: file.path, changed, changes };
    if (outDir) {
      const target = join(outDir, file.relative);
      if (resolve(target) === file.path) throw new UsageError(`-o ${outDir} would overwrite ${file.path}`, { hint: 'use --in-place to change files where they are' });
      await mkdir(dirname(target), { recursive: true });
      if (changed) await writeFileAtomic(target, text);
      else await copyFile(file.path, target);
      entry.output = target;
    } else if (options.output.kind === 'in-place' && changed) {
      await writeFileAtomic(file.path, text);
      entry.output = file.path;
    } else if (options.output.kind === 'stdout') {
      texts.push({ path: file.path, text });
    }
    report.files.push(entry);
    report.changed += changed ? 1 : 0;
    report.unchanged += changed ? 0 : 1;
    report.images += changes.length;
    report.pinned += changes.filter((c) => c.pinned).length;
  }
  return { report, texts };
}
