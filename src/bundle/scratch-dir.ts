import { readlinkSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../core/process-alive.js';

// Scratch directories for reading and writing bundles (the spooled index.db,
// the index being built), named after the process that owns them:
// `ferry-<kind>-<pid>-n<pid namespace>-XXXXXX`. A run that is killed (kill -9,
// power cut) cannot remove its own, so each new one first removes those whose
// owner is no longer running. A reused pid can make a dead owner look alive:
// that directory waits for a later run, never the other way round. A pid means
// something only in its own pid namespace (a container, `unshare --pid` sharing
// this /tmp): directories of another namespace are never swept, since their
// owner cannot be seen from here, alive or not.

export type ScratchKind = 'bundle' | 'write';

// The namespace part is absent in directories of ferry before 0.1.1: swept as this namespace's.
const OWNED = /^ferry-(?:bundle|write)-(\d+)-(?:n(\d+)-)?/;

/** The inode of this process's pid namespace ("pid:[4026531836]"), or "0" where /proc does not say. */
function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

const NAMESPACE = pidNamespace();

/** A new scratch directory under `base` (default: the OS temp dir), after sweeping dead runs' leftovers there. */
export async function scratchDir(kind: ScratchKind, base: string = tmpdir()): Promise<string> {
  await sweepDeadScratch(base);
  return mkdtemp(join(base, `ferry-${kind}-${process.pid}-n${NAMESPACE}-`));
}

/** Removes the scratch directories under `base` whose owning process is gone; returns their names. */
export async function sweepDeadScratch(base: string): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const [, owner, namespace] = OWNED.exec(name) ?? [];
    if (owner === undefined || (namespace !== undefined && namespace !== NAMESPACE) || isProcessAlive(Number(owner))) continue;
    await rm(join(base, name), { recursive: true, force: true }).then(
      () => swept.push(name),
      () => undefined,
    );
  }
  return swept;
}
