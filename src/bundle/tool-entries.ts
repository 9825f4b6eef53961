import { UsageError } from '../core/errors.js';
import { MIN_SPLIT_BYTES } from './split-size.js';
import { isToolEntry, type BundleRelease } from './format.js';
import { paddedSize, TAR_BLOCK } from './ustar.js';

// The ferry releases a bundle carries (`ferry export --with-ferry`): each one a
// `ferry/tool/…` entry right after the head, so that volume 0 of a split bundle
// holds the tool that reads the rest. Here: what the writer checks before a
// byte is written.

/** A release to carry: where its file is, and what bundle.json will say about it (digest and size included). */
export interface ToolInput extends BundleRelease {
  path: string;
}

/** Bytes a tar entry of `size` takes: header, data, padding. */
export function tarEntryBytes(size: number): number {
  return TAR_BLOCK + paddedSize(size);
}

export function checkToolNames(tools: readonly ToolInput[]): void {
  const seen = new Set<string>();
  for (const t of tools) {
    if (!isToolEntry(t.entry)) throw new UsageError(`${t.entry} is not a ferry release entry (ferry/tool/ferry-<version>-<os>-<arch>.tar.gz)`);
    if (seen.has(t.entry)) throw new UsageError(`${t.entry} is given twice`);
    seen.add(t.entry);
  }
}

/**
 * A split bundle carries its releases in volume 0, whole: refused before
 * writing when `split` is smaller than the head plus the releases, naming
 * the smallest --split that works.
 */
export function checkToolsFitVolumeZero(headBytes: number, tools: readonly ToolInput[], split: number | undefined): void {
  if (split === undefined || tools.length === 0) return;
  const end = tools.reduce((n, t) => n + tarEntryBytes(t.size), headBytes);
  if (split >= end) return;
  const smallest = Math.max(end, MIN_SPLIT_BYTES);
  const mib = Math.ceil(smallest / (1024 * 1024));
  throw new UsageError(`--split ${split} is too small to carry ferry in volume 0: the head and ${tools.map((t) => t.entry).join(', ')} end at byte ${end}`, {
    hint: `use --split ${smallest} or more (e.g. --split ${mib}M)`,
  });
}
