// src/release: ferry as one self-contained .tar.gz (the Node.js runtime, dist/,
// the production dependencies, a launcher, licences, a file list), built
// reproducibly; checked before it is carried; re-made by a running ferry.
export { buildRelease, writePlannedRelease, type BuiltRelease } from './build-release.js';
export { checkRelease, type ReleaseInfo } from './read-release.js';
export { parseManifest, type ReleaseManifest, RELEASE_FORMAT } from './release-manifest.js';
export { planFromCheckout, type ReleasePlan } from './release-plan.js';
export { installRoot, planFromInstall, runningRelease } from './running-release.js';
