import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { readCapped } from '../core/read-capped.js';
import { parseDestination, type RetagRule } from '../transfer/retag.js';
import { writeFileAtomic } from './atomic-write.js';
import { hostsDirName, mirrorHostUrl, renderHostsToml, upstreamServer } from './hosts-toml.js';
import { formatEndpoint, requireHostLike, type MirrorEndpoint } from './mirror-endpoint.js';

// `ferry k8s mirror-config`: a certs.d tree with one hosts.toml per upstream
// registry, pointing at the mirror, so pods keep their original image names and
// nodes pull from the mirror. A retag rule covering a whole upstream
// (`mcr.microsoft.com/=site/mcr/`) moves that upstream's mirror path, as it moved
// its images on import; hosts.toml maps whole registries, so narrower rules can
// only be reported.

export const DEFAULT_CONFIG_PATH = '/etc/containerd/certs.d';
/** The CA copy beside each hosts.toml; containerd resolves a relative `ca` against that directory. */
export const MIRROR_CA_FILE = 'ferry-mirror-ca.crt';

export interface MirrorConfigOptions {
  upstreams: readonly string[];
  mirror: MirrorEndpoint;
  rules?: readonly RetagRule[];
  outDir: string;
  /** A local PEM file: copied into every host directory and named by a relative `ca`. */
  caCert?: string;
  skipVerify?: boolean;
  /** Where the tree goes on the nodes (for the printed containerd snippet). */
  configPath?: string;
}

export interface MirrorConfigFile {
  upstream: string;
  path: string;
  server: string;
  mirror: string;
  overridePath: boolean;
}

export interface MirrorConfigReport {
  outDir: string;
  files: MirrorConfigFile[];
  skipped: Array<{ upstream: string; reason: string }>;
  warnings: string[];
  /** The containerd config.toml lines that make CRI read the tree. */
  containerdConfig: string;
}

function stripSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** The mirror endpoint for one upstream: a rule for the whole registry wins over --registry. */
function endpointFor(upstream: string, base: MirrorEndpoint, rules: readonly RetagRule[], warnings: string[]): MirrorEndpoint {
  const rule = rules.filter((r) => stripSlash(r.from) === upstream).at(-1);
  let endpoint = base;
  if (rule) {
    const target = parseDestination(rule.to);
    requireHostLike(target.registry, `retag rule ${rule.from}=${rule.to}`);
    endpoint = { scheme: base.scheme, host: target.registry, prefix: target.prefix };
  }
  for (const r of rules.filter((x) => stripSlash(x.from).startsWith(`${upstream}/`))) {
    warnings.push(`retag rule ${r.from}=${r.to} covers part of ${upstream} only: hosts.toml maps whole registries, so nodes look for those images at ${formatEndpoint(endpoint)}`);
  }
  return endpoint;
}

async function readCa(path: string): Promise<Buffer> {
  const bytes = await readCapped(createReadStream(path), 1024 * 1024, path).catch((err: unknown) => {
    throw new UsageError(`cannot read --ca-cert ${path}: ${(err as Error).message}`);
  });
  if (!bytes.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca-cert ${path} holds no PEM certificate`);
  return bytes;
}

export function containerdSnippet(configPath: string = DEFAULT_CONFIG_PATH): string {
  return ['[plugins."io.containerd.grpc.v1.cri".registry]', `  config_path = "${configPath}"`].join('\n');
}

export async function writeMirrorConfig(options: MirrorConfigOptions): Promise<MirrorConfigReport> {
  if (options.upstreams.length === 0) throw new UsageError('no upstream registries to configure', { hint: 'give a bundle or spec with -f, or --upstream HOST' });
  const outDir = resolve(options.outDir);
  const ca = options.caCert ? await readCa(options.caCert) : undefined;
  const report: MirrorConfigReport = { outDir, files: [], skipped: [], warnings: [], containerdConfig: containerdSnippet(options.configPath) };
  for (const upstream of options.upstreams) {
    const mirror = endpointFor(upstream, options.mirror, options.rules ?? [], report.warnings);
    if (mirror.host === upstream && !mirror.prefix) {
      report.skipped.push({ upstream, reason: 'the images already come from the mirror itself' });
      continue;
    }
    const dir = join(outDir, hostsDirName(upstream));
    await mkdir(dir, { recursive: true });
    if (ca) await writeFileAtomic(join(dir, MIRROR_CA_FILE), ca);
    const path = join(dir, 'hosts.toml');
    const text = renderHostsToml({ upstream, mirror, ...(ca ? { ca: MIRROR_CA_FILE } : {}), skipVerify: options.skipVerify === true });
    await writeFileAtomic(path, text);
    const { url, overridePath } = mirrorHostUrl(mirror);
    report.files.push({ upstream, path, server: upstreamServer(upstream), mirror: url, overridePath });
  }
  return report;
}
