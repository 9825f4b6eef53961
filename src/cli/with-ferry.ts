import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOL_PREFIX, type ToolInput } from '../bundle/index.js';
import { checkRelease, runningRelease } from '../release/index.js';

// `ferry export --with-ferry [RELEASE.tar.gz]`: which releases go on the stick.
// Without a value, the release of this ferry (built, or found beside the
// install and proven to be it). Every release is checked (name, RELEASE.json,
// every file's sha256) before it is carried. The flag is a greedy yargs array
// (it must also work bare, so it cannot take `nargs: 1`): the image references
// it swallows (values that are not a .tar.gz) are handed back as references.

export interface CarriedReleases {
  tools: ToolInput[];
  cleanup(): Promise<void>;
}

/** The flag's values: release files ([] = this ferry's release; undefined = none), and references it swallowed. */
export function withFerryValues(value: string | string[] | undefined): { files: string[] | undefined; refs: string[] } {
  if (value === undefined) return { files: undefined, refs: [] };
  const given = Array.isArray(value) ? value : [value];
  return { files: given.filter((v) => v.endsWith('.tar.gz')), refs: given.filter((v) => v !== '' && !v.endsWith('.tar.gz')) };
}

export async function carriedReleases(given: readonly string[] | undefined): Promise<CarriedReleases> {
  const files = [...(given ?? [])];
  let scratch: string | undefined;
  const cleanup = async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  };
  try {
    if (given !== undefined && files.length === 0) {
      scratch = await mkdtemp(join(tmpdir(), 'ferry-release-'));
      files.push(await runningRelease(scratch));
    }
    const tools: ToolInput[] = [];
    for (const file of files) {
      const info = await checkRelease(file);
      const entry = `${TOOL_PREFIX}ferry-${info.version}-${info.os}-${info.arch}.tar.gz`;
      tools.push({ entry, version: info.version, os: info.os, arch: info.arch, digest: info.digest, size: info.size, requires: info.manifest.requires, path: file });
    }
    return { tools, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
