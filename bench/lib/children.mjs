// Every process the bench starts is tracked here and killed when the bench
// exits, however it exits (normal end, an exception, Ctrl-C). Only our own
// pids are signalled: never a name match.
import { spawn } from 'node:child_process';

const live = new Set();
let hooked = false;

function hook() {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of live) {
      try {
        // Detached children lead their own process group: take the group (e.g. /usr/bin/time and its child).
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        try { child.kill('SIGKILL'); } catch { /* already gone */ }
      }
    }
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** spawn() whose child (and its process group) dies with the bench. */
export function track(command, args, options = {}) {
  hook();
  const child = spawn(command, args, { ...options, detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGTERM the child's group, SIGKILL after `graceMs`; resolves once it exited. */
export async function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signal = (sig) => {
    try { process.kill(-child.pid, sig); } catch { try { child.kill(sig); } catch { /* gone */ } }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  live.delete(child);
}
