import type * as GraphWalk from './graph-walk.js';
import type * as ManifestDbBuild from './manifest-db-build.js';
import type * as VolumeRemake from './volume-remake.js';
import type * as Writer from './writer.js';

// The writing side of the package, loaded on its first call: the barrel would
// otherwise load the writer, the volume splitter, the head builder and their
// helpers into every `ferry inspect` and `ferry verify`, which never write and
// whose cost is mostly start-up (docs/performance.md).

export async function writeBundle(...args: Parameters<typeof Writer.writeBundle>): ReturnType<typeof Writer.writeBundle> {
  return (await import('./writer.js')).writeBundle(...args);
}

export async function remakeBundleVolume(...args: Parameters<typeof VolumeRemake.remakeBundleVolume>): ReturnType<typeof VolumeRemake.remakeBundleVolume> {
  return (await import('./volume-remake.js')).remakeBundleVolume(...args);
}

export async function walkBundleGraph(...args: Parameters<typeof GraphWalk.walkBundleGraph>): ReturnType<typeof GraphWalk.walkBundleGraph> {
  return (await import('./graph-walk.js')).walkBundleGraph(...args);
}

export async function buildManifestDb(...args: Parameters<typeof ManifestDbBuild.buildManifestDb>): ReturnType<typeof ManifestDbBuild.buildManifestDb> {
  return (await import('./manifest-db-build.js')).buildManifestDb(...args);
}
