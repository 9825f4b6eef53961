import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBundle } from '../../src/bundle/index.js';
import { tempDir } from '../bundle/fixtures.js';
import { syntheticImages } from '../bundle/synthetic-set.js';

// The setup of the tests that watch what a CLI run loads: a `node -r` preload that
// reports from inside the child, and a small two-image bundle to run it on.

export interface PreloadAndBundle {
  work: Awaited<ReturnType<typeof tempDir>>;
  /** The preload file: `node -r PRELOAD bin/ferry.cjs …`. */
  preload: string;
  /** A two-image bundle. */
  small: string;
}

export async function preloadAndSmallBundle(prefix: string, preloadName: string, lines: readonly string[]): Promise<PreloadAndBundle> {
  const work = await tempDir(prefix);
  const preload = join(work.dir, preloadName);
  await writeFile(preload, [...lines, ''].join('\n'));
  const { images, fetch } = syntheticImages(2);
  const small = join(work.dir, 'small.tar');
  await writeBundle({ images, fetch, out: small, toolVersion: 'test' });
  return { work, preload, small };
}
