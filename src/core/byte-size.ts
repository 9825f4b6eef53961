import { UsageError } from './errors.js';

// A size typed on the command line: bytes, or a number with a unit. K/M/G/T and
// KiB/MiB/GiB/TiB are powers of 1024, KB/MB/GB/TB powers of 1000 (GNU's reading).

const FACTOR: Readonly<Record<string, number>> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** `64M` → 67108864; UsageError naming `flag` for anything else. */
export function parseByteSize(value: string | number, flag: string): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$/i.exec(text);
  const prefix = (m?.[2] ?? '').toLowerCase();
  const suffix = (m?.[3] ?? '').toLowerCase();
  // KB (no i) is decimal; K, KiB binary; a bare B or nothing is bytes.
  const unit = prefix === '' ? 1 : suffix === 'b' ? 1000 ** ' kmgt'.indexOf(prefix) : FACTOR[prefix];
  const bytes = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError(`invalid ${flag} '${text.slice(0, 40)}': expected a size such as 64M, 512KiB or 1G`);
  }
  return bytes;
}
