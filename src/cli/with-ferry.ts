import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOL_PREFIX, type ToolInput } from '../bundle/index.js';
import { checkRelease, runningRelease } from '../release/index.js';

// `ferry export --with-ferry [RELEASE.tar.gz]`: which releases go on the stick.
// Without a value, the release of this ferry (built, or found beside the
// install and proven to be it). Every release is checked (name, RELEASE.json,
// every file's sha256) before it is carried. yargs gives a bare `--with-ferry`
// followed by an image reference that reference as the value: a value that is
// not a .tar.gz is handed back as a reference.

export interface CarriedReleases {
  tools: ToolInput[];
  cleanup(): Promise<void>;
}

/** The flag's values: release files ([] = this ferry's release; undefined = none), and references it swallowed. */
export function withFerryValues(value: string | string[] | undefined): { files: string[] | undefined; refs: string[] } {
  const given = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return { files: given.length > 0 ? given.filter((v) => v.endsWith('.tar.gz')) : undefined, refs: given.filter((v) => v !== '' && !v.endsWith('.tar.gz')) };
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
