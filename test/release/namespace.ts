import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { run, type RunResult } from '../rig/peers.js';

// A machine with nothing installed, made of this one: a mount, network and pid
// namespace (unshare; root) in which node, npm, npx and the global
// node_modules are hidden under empty files and directories, the checkout's
// node_modules and dist/ too, the only network is the loopback interface, the
// stick is mounted read-only at /media/usb, and a docker-registry (the site
// registry) listens on 127.0.0.1:5001. The far-side script then runs with
// PATH=/usr/bin:/bin and nothing else in its environment but HOME. When the
// namespace's first process exits, everything started in it goes too.

export interface FarMachine {
  /** Scratch directory (HOME lives in it). */
  work: string;
  /** The directory mounted at /media/usb. */
  stick: string;
  /** The docker-registry config (listening on 127.0.0.1:5001). */
  registryConfig: string;
  /** The far-side script (docCommands → stepScript). */
  script: string;
  /** Run after the script, still inside: the arrival checks. */
  after: string;
  /** Directories of the checkout to hide (its node_modules, dist). */
  hideDirs: string[];
}

function which(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Why this machine cannot make a far machine, or undefined when it can. */
export function farMachineUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['unshare', 'ip', 'docker-registry', 'skopeo', 'curl', 'strace']) if (!which(tool)) return `${tool} not found`;
  const probe = spawnSync('unshare', ['--mount', '--net', '--pid', '--fork', 'true']);
  return probe.status === 0 ? undefined : `unshare --mount --net --pid failed: ${probe.stderr.toString().trim()}`;
}

/** What to hide: node, npm, npx (and where their links lead) and the global node_modules. */
export function nodeInstall(): { files: string[]; dirs: string[] } {
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
  const dirs = npmRoot && existsSync(npmRoot) ? [npmRoot] : [];
  const files = new Set<string>();
  for (const name of ['node', 'npm', 'npx', 'corepack']) {
    const path = which(name);
    if (!path) continue;
    const real = realpathSync(path);
    // A link into the hidden node_modules dangles once that is hidden; the file itself is hidden.
    if (!dirs.some((d) => real.startsWith(`${d}/`))) files.add(real);
    if (path !== real && !dirs.some((d) => path.startsWith(`${d}/`))) files.add(path);
  }
  files.add(realpathSync(process.execPath));
  return { files: [...files].filter((f) => !dirs.some((d) => f.startsWith(`${d}/`))).sort(), dirs };
}

const HARNESS = `
set -eu
: > "$WORK/empty-file"
mkdir -p "$WORK/empty-dir"
for f in $HIDE_FILES; do
  [ -L "$f" ] && continue
  mount --bind "$WORK/empty-file" "$f"
  echo "HIDDEN $f (an empty file)"
done
for d in $HIDE_DIRS; do mount --bind "$WORK/empty-dir" "$d"; echo "HIDDEN $d/ (an empty directory)"; done
for tool in node npm npx; do
  if env PATH=/usr/bin:/bin "$tool" --version >/dev/null 2>&1; then echo "$tool still runs" >&2; exit 1; fi
  echo "CHECK $tool: does not run"
done
"$IP" link set lo up
echo "NETWORK $("$IP" -o link show | cut -d: -f2 | tr -d ' ' | tr '\\n' ' ')"
if curl -sS --max-time 3 -o /dev/null http://1.1.1.1/ 2>/dev/null; then echo "the network is reachable" >&2; exit 1; fi
echo "CHECK no route beyond loopback"
mount -t tmpfs tmpfs /media
mkdir /media/usb
mount --bind "$STICK" /media/usb
mount -o remount,bind,ro /media/usb
echo "STICK /media/usb (read-only): $(ls /media/usb | tr '\\n' ' ')"
docker-registry serve "$REGISTRY_CONFIG" > "$WORK/registry.log" 2>&1 &
i=0
until curl -s -o /dev/null http://127.0.0.1:5001/v2/; do i=$((i + 1)); [ $i -lt 100 ] || { echo "docker-registry did not start" >&2; exit 1; }; sleep 0.1; done
echo "REGISTRY docker-registry on 127.0.0.1:5001"
echo "== docs/far-side.md"
env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 sh -e "$SCRIPT"
echo "== arrival"
sh -e "$AFTER"
`;

export function runFarMachine(m: FarMachine, timeoutMs: number): Promise<RunResult> {
  const hide = nodeInstall();
  return run('unshare', ['--mount', '--net', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'sh', '-c', HARNESS], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      WORK: m.work,
      STICK: m.stick,
      REGISTRY_CONFIG: m.registryConfig,
      SCRIPT: m.script,
      AFTER: m.after,
      IP: which('ip') ?? 'ip',
      HIDE_FILES: hide.files.join(' '),
      HIDE_DIRS: [...hide.dirs, ...m.hideDirs].join(' '),
    },
    timeoutMs,
  });
}
