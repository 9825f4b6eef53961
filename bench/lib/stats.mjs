// Medians and human units for the table.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '–';
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function fmtSeconds(ms) {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '–';
}

export function fmtRate(bytes, ms) {
  return Number.isFinite(ms) && ms > 0 ? `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s` : '–';
}

export function fmtRatio(r) {
  return Number.isFinite(r) ? r.toFixed(3) : '–';
}

/**
 * The median of per-run ratios a[i]/b[i] (each run's ferry and peer figures are
 * taken back to back, so their ratio cancels most of the drift in load that
 * separate medians would keep), and how stable it is: the min and max of them.
 */
export function paired(a, b) {
  const each = a.map((x, i) => x / b[i]).filter((x) => Number.isFinite(x));
  return { ratio: median(each), spread: each.length ? [Math.min(...each), Math.max(...each)] : undefined };
}
