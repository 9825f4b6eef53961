import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';

// The Node.js runtime a release carries: the very binary running this build
// (process.execPath), at the place Node's own archives put it, and its licence
// text, found where Node's archives and packages put it. A build that cannot
// find the licence stops: a release without it may not be passed on.

/** Where the node binary sits inside a release (below `ferry/`), as in Node's own archives. */
export function nodePathInRelease(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'node/node.exe' : 'node/bin/node';
}

/** Node's LICENSE beside the binary (official archives), one level up, or where Linux packages put docs. */
export function nodeLicenceCandidates(execPath: string, platform: NodeJS.Platform): string[] {
  const bin = dirname(execPath);
  const candidates = [join(bin, 'LICENSE'), join(bin, '..', 'LICENSE'), join(bin, '..', 'share', 'doc', 'node', 'LICENSE')];
  if (platform !== 'win32') candidates.push('/usr/share/doc/nodejs/LICENSE', '/usr/share/doc/node/LICENSE');
  return candidates;
}

export async function findNodeLicence(execPath: string, platform: NodeJS.Platform, given?: string): Promise<string> {
  const candidates = given ? [given] : nodeLicenceCandidates(execPath, platform);
  for (const c of candidates) if ((await stat(c).catch(() => undefined))?.isFile()) return c;
  throw new UsageError(`cannot find the licence of the Node.js at ${execPath} (looked at ${candidates.join(', ')})`, {
    hint: 'pass it: npm run release -- --node-license PATH/TO/LICENSE (from the Node.js archive of the same version)',
  });
}
