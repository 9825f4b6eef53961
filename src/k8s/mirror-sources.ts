import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { inspectBundle } from '../bundle/index.js';
import { UsageError } from '../core/errors.js';
import { normalizeRegistry, parseReference } from '../core/reference.js';
import type { RetagRule } from '../transfer/retag.js';
import { parseSpec } from '../transfer/spec.js';

// Which upstream registries a mirror configuration must cover: those named by
// a bundle's images (read from its head only) or by a spec, plus its retag
// rules (a spec's rules decide where `ferry import -f` puts images).

export interface MirrorSources {
  /** Normalised upstream hosts, sorted, each once. */
  upstreams: string[];
  rules: RetagRule[];
}

function isSpecPath(path: string): boolean {
  return ['.yaml', '.yml'].includes(extname(path).toLowerCase());
}

async function fromSpec(path: string): Promise<MirrorSources> {
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    throw new UsageError(`cannot read spec ${path}: ${(err as Error).message}`);
  });
  const spec = parseSpec(text, path);
  return { upstreams: spec.images.map((i) => i.reference.registry), rules: spec.retag };
}

async function fromBundle(path: string): Promise<MirrorSources> {
  const report = await inspectBundle(path);
  return { upstreams: report.images.map((i) => parseReference(i.name).registry), rules: [] };
}

/** Reads every input (bundle or spec) and adds `extra` upstream hosts. */
export async function readMirrorSources(inputs: readonly string[], extra: readonly string[] = []): Promise<MirrorSources> {
  const upstreams = new Set<string>(extra.map((h) => normalizeRegistry(h.trim())));
  const rules: RetagRule[] = [];
  for (const input of inputs) {
    const found = isSpecPath(input) ? await fromSpec(input) : await fromBundle(input);
    for (const u of found.upstreams) upstreams.add(u);
    rules.push(...found.rules);
  }
  return { upstreams: [...upstreams].sort(), rules };
}
