import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCapability } from './peers.js';

// A real small device that fills up: a tmpfs mounted on a directory (root with
// CAP_SYS_ADMIN). The suites that need one skip without it, except under CI.

/** Mounts a tmpfs with `options` (`size=256k`) on `dir`; false where this process may not. */
export function mountTmpfs(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether this process can mount a tmpfs (tried once on a scratch directory); under CI=true, throws if not. */
export function tmpfsAvailable(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'ferry-mount-probe-'));
  const mountable = process.getuid?.() === 0 && mountTmpfs(probe, 'size=64k');
  if (mountable) execFileSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return requireCapability('mounting a small tmpfs (a device that fills up)', mountable, 'run the tests as root with CAP_SYS_ADMIN (mount -t tmpfs)');
}
