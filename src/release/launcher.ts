// The launchers a release starts from. They find their own directory and run
// the release's node on the release's code — never a `node` from PATH — and
// clear NODE_OPTIONS and NODE_PATH, which could load code from outside it.
// POSIX sh (dash, busybox, bash); a .cmd for Windows (an .exe would need a
// compiler at build time; cmd.exe runs .cmd files from PATH the same way).

export const POSIX_LAUNCHER = `#!/bin/sh
# ferry: runs this release's own Node.js on this release's code, never a node from PATH.
self=$0
# Follow symbolic links (ferry linked into /usr/local/bin) to the real file.
while [ -h "$self" ] && command -v readlink >/dev/null 2>&1; do
  target=$(readlink "$self")
  case $target in
    /*) self=$target ;;
    *) self=$(dirname "$self")/$target ;;
  esac
done
root=$(cd "$(dirname "$self")/.." && pwd -P) || exit 1
unset NODE_OPTIONS NODE_PATH
exec "$root/node/bin/node" "$root/bin/ferry.cjs" "$@"
`;

export const WINDOWS_LAUNCHER = [
  '@echo off',
  'rem ferry: runs this release\'s own Node.js on this release\'s code, never a node from PATH.',
  'setlocal',
  'set NODE_OPTIONS=',
  'set NODE_PATH=',
  '"%~dp0..\\node\\node.exe" "%~dp0ferry.cjs" %*',
  '',
].join('\r\n');

/** The launcher files of a release for `platform`: path below `ferry/`, bytes. */
export function launchers(platform: NodeJS.Platform): Array<{ path: string; bytes: Buffer }> {
  return platform === 'win32' ? [{ path: 'bin/ferry.cmd', bytes: Buffer.from(WINDOWS_LAUNCHER) }] : [{ path: 'bin/ferry', bytes: Buffer.from(POSIX_LAUNCHER) }];
}
