// The images the bench moves. Full: 12 images, ~300 MiB of unique layers, with
// shared base and runtime layers (the dedup case), Docker schema2 and OCI
// media types mixed, and one two-platform OCI index. Quick: 3 images, ~34 MiB,
// same shapes. Extra images, not in the export list: web:1.1 (one new app layer
// on web:1.0, for the delta bundle), big:1 (one 2 GiB layer; quick 256 MiB)
// and small:1 (one 64 MiB layer; quick 32 MiB), for the memory measures.

const M = 1024 * 1024;

function fullSet() {
  const layers = {
    'base-a': 30, 'base-b': 25, 'base-a-arm64': 28, node: 40, python: 35, java: 40,
    web: 12, api: 10, worker: 8, ml: 24, billing: 14, auth: 9, 'multi-amd64': 12, 'multi-arm64': 12,
    'web-patch': 5, big: 2048, small: 64,
  };
  const images = [
    { repo: 'bench/base-a', tag: '1', format: 'oci', layers: ['base-a'] },
    { repo: 'bench/base-b', tag: '1', format: 'docker', layers: ['base-b'] },
    { repo: 'bench/node', tag: '20', format: 'docker', layers: ['base-a', 'node'] },
    { repo: 'bench/python', tag: '3', format: 'oci', layers: ['base-a', 'python'] },
    { repo: 'bench/java', tag: '17', format: 'docker', layers: ['base-b', 'java'] },
    { repo: 'bench/web', tag: '1.0', format: 'oci', layers: ['base-a', 'node', 'web'] },
    { repo: 'bench/api', tag: '1.0', format: 'docker', layers: ['base-a', 'node', 'api'] },
    { repo: 'bench/worker', tag: '1.0', format: 'oci', layers: ['base-a', 'python', 'worker'] },
    { repo: 'bench/ml', tag: '1.0', format: 'oci', layers: ['base-a', 'python', 'ml'] },
    { repo: 'bench/billing', tag: '1.0', format: 'docker', layers: ['base-b', 'java', 'billing'] },
    { repo: 'bench/auth', tag: '1.0', format: 'docker', layers: ['base-b', 'java', 'auth'] },
    {
      repo: 'bench/multi', tag: '1', format: 'oci',
      platforms: [
        { os: 'linux', architecture: 'amd64', layers: ['base-a', 'multi-amd64'] },
        { os: 'linux', architecture: 'arm64', layers: ['base-a-arm64', 'multi-arm64'] },
      ],
    },
  ];
  return { layers, images };
}

function quickSet() {
  const layers = { 'base-a': 8, node: 10, web: 6, 'base-a-arm64': 4, 'multi-amd64': 3, 'multi-arm64': 3, 'web-patch': 2, big: 256, small: 32 };
  const images = [
    { repo: 'bench/node', tag: '20', format: 'docker', layers: ['base-a', 'node'] },
    { repo: 'bench/web', tag: '1.0', format: 'oci', layers: ['base-a', 'node', 'web'] },
    {
      repo: 'bench/multi', tag: '1', format: 'oci',
      platforms: [
        { os: 'linux', architecture: 'amd64', layers: ['base-a', 'multi-amd64'] },
        { os: 'linux', architecture: 'arm64', layers: ['base-a-arm64', 'multi-arm64'] },
      ],
    },
  ];
  return { layers, images };
}

/** The set for a mode; layer sizes in bytes. */
export function imageSet(mode) {
  const set = mode === 'quick' ? quickSet() : fullSet();
  const layers = Object.fromEntries(Object.entries(set.layers).map(([k, v]) => [k, v * M]));
  const extra = {
    delta: { repo: 'bench/web', tag: '1.1', format: 'oci', layers: ['base-a', 'node', 'web', 'web-patch'] },
    big: { repo: 'bench/big', tag: '1', format: 'oci', layers: ['big'], level: 0 },
    small: { repo: 'bench/small', tag: '1', format: 'oci', layers: ['small'], level: 0 },
  };
  return { mode, layers, images: set.images, extra };
}

export const SET_VERSION = 2;
