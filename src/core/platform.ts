import { ErrorCode, UsageError } from './errors.js';

/** OCI platform, as in an index descriptor or an image config. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', x86: '386', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };
/** Debian's arm names imply a variant (containerd platforms.Normalize). */
const ALIAS_VARIANT: Record<string, string> = { armhf: 'v7', armel: 'v6' };
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7' };
const PART = /^[a-z0-9_.-]+$/;

/**
 * Parses `os/arch[/variant]` with an optional Windows build, written either
 * containerd-style `windows(10.0.17763)/amd64` or as a suffix `windows/amd64:10.0.17763`.
 */
export function parsePlatform(text: string): Platform {
  const invalid = () =>
    new UsageError(`invalid platform '${text}': expected OS/ARCH[/VARIANT][:OS.VERSION], e.g. linux/arm64/v8 or windows/amd64:10.0.20348`, {
      code: ErrorCode.platformInvalid,
    });
  let rest = text.trim().toLowerCase();
  let osVersion: string | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    osVersion = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const paren = /^([a-z0-9_-]+)\(([^)]+)\)(\/.*)$/.exec(rest);
  if (paren) {
    if (osVersion !== undefined) throw invalid();
    osVersion = paren[2];
    rest = `${paren[1]}${paren[3]}`;
  }
  const parts = rest.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !PART.test(p))) throw invalid();
  if (osVersion !== undefined && !/^[0-9][0-9.]*$/.test(osVersion)) throw invalid();
  const platform: Platform = { os: parts[0]!, architecture: ARCH_ALIASES[parts[1]!] ?? parts[1]! };
  const variant = parts[2] ?? ALIAS_VARIANT[parts[1]!];
  if (variant) platform.variant = variant;
  if (osVersion) platform['os.version'] = osVersion;
  return platform;
}

/**
 * The values of a repeatable `--platform` flag, each of which may itself be a
 * comma list (`linux/amd64,linux/arm64`, as crane and regctl take it).
 */
export function parsePlatformList(values: readonly string[] | undefined): Platform[] {
  return (values ?? []).flatMap((v) => v.split(',')).filter((v) => v.trim() !== '').map(parsePlatform);
}

export function formatPlatform(p: Platform): string {
  let s = `${p.os}/${p.architecture}`;
  if (p.variant) s += `/${p.variant}`;
  if (p['os.version']) s += `:${p['os.version']}`;
  return s;
}

function variantOf(p: Platform): string | undefined {
  return p.variant ?? DEFAULT_VARIANT[p.architecture];
}

/**
 * Does `actual` (from an index) satisfy `wanted` (from --platform)? The variant
 * is compared with the architecture's default filled in (arm64 → v8), and a
 * wanted os.version matches as a prefix of dotted components (10.0.17763 matches
 * 10.0.17763.1234), as Windows hosts select images.
 */
export function platformMatches(wanted: Platform, actual: Platform | undefined): boolean {
  if (!actual) return false;
  if (wanted.os !== actual.os.toLowerCase()) return false;
  if (wanted.architecture !== (ARCH_ALIASES[actual.architecture] ?? actual.architecture)) return false;
  if (wanted.variant && variantOf(wanted) !== variantOf(actual)) return false;
  const wantedVersion = wanted['os.version'];
  if (wantedVersion) {
    const got = actual['os.version'];
    if (!got) return false;
    if (got !== wantedVersion && !got.startsWith(`${wantedVersion}.`)) return false;
  }
  return true;
}
