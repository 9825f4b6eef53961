// CPU time from /proc: a process's own (a server's, while a client pulls or
// pushes), and the time the hypervisor gave to other guests ("steal",
// /proc/stat): on a shared VM it can take half of both cores for minutes at a
// time, with the load average barely moved, and every figure taken meanwhile
// slows by as much. Each measure reports the share stolen while it ran, beside the load.
import { readFileSync } from 'node:fs';

// Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux build that matters).
const USER_HZ = 100;

/** CPU milliseconds (user + system) the live process `pid` has used so far; NaN where /proc cannot say. */
export function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/** The machine's CPU ticks so far: all of them, and the stolen ones (undefined where /proc/stat has no steal). */
export function cpuTicks() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice: guest time is inside user already.
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** The share of CPU time stolen since `before` (cpuTicks()), as "12 %", or '' when unknown. */
export function stolenSince(before) {
  const now = cpuTicks();
  if (!before || !now || now.total <= before.total) return '';
  return `${Math.round((100 * (now.steal - before.steal)) / (now.total - before.total))} %`;
}
