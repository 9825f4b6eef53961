import { UsageError } from '../core/errors.js';

// `--split SIZE`: bytes, with binary suffixes as GNU split reads them (K, M, G,
// T and KiB… are powers of 1024; KB, MB, GB, TB powers of 1000), or `fat32` for
// the largest file FAT32 can hold.

export const FAT32_MAX_FILE = 4 * 1024 ** 3 - 1;
/** Smaller volumes than this are a typo, not a plan. */
export const MIN_SPLIT_BYTES = 1024;
/** Volume names carry three digits: NAME.000 … NAME.999. */
export const MAX_VOLUMES = 1000;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

export function parseSplitSize(value: string | number): number {
  const text = String(value).trim();
  const invalid = (why: string) =>
    new UsageError(`invalid --split '${text.slice(0, 40)}': ${why}`, { hint: 'use bytes, a size such as 500M or 4G, or fat32 (4 GiB - 1 byte)' });
  if (text.toLowerCase() === 'fat32') return FAT32_MAX_FILE;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  const unit = m ? UNITS[(m[2] as string).toLowerCase()] : undefined;
  if (!m || unit === undefined) throw invalid('not a size');
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw invalid('too large');
  if (bytes < MIN_SPLIT_BYTES) throw invalid(`volumes must be at least ${MIN_SPLIT_BYTES} bytes`);
  return bytes;
}
