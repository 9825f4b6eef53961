import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../store/index.js';

// Scratch directories for reading and writing bundles (the spooled index.db,
// the index being built), named after the process that owns them:
// `ferry-<kind>-<pid>-XXXXXX`. A run that is killed (kill -9, power cut)
// cannot remove its own, so each new one first removes those whose owner is
// no longer running. A reused pid can make a dead owner look alive: that
// directory waits for a later run, never the other way round.

export type ScratchKind = 'bundle' | 'write';

const OWNED = /^ferry-(?:bundle|write)-(\d+)-/;

/** A new scratch directory under `base` (default: the OS temp dir), after sweeping dead runs' leftovers there. */
export async function scratchDir(kind: ScratchKind, base: string = tmpdir()): Promise<string> {
  await sweepDeadScratch(base);
  return mkdtemp(join(base, `ferry-${kind}-${process.pid}-`));
}

/** Removes the scratch directories under `base` whose owning process is gone; returns their names. */
export async function sweepDeadScratch(base: string): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const owner = OWNED.exec(name)?.[1];
    if (owner === undefined || isProcessAlive(Number(owner))) continue;
    await rm(join(base, name), { recursive: true, force: true }).then(
      () => swept.push(name),
      () => undefined,
    );
  }
  return swept;
}
