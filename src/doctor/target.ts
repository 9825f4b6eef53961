import { ErrorCode, ExitCode, UsageError } from '../core/errors.js';
import { normalizeRegistry } from '../core/reference.js';
import { registryBaseUrl } from '../registry/client/index.js';
import { CheckName, fail, ok, warn, type CheckResult } from './check.js';

// Check 1: the registry name as typed. ferry lowercases hosts (references are
// case-insensitive in the host part), but Azure Stack Hub ACR only answers to
// its lowercase login server, and auth files are keyed by the exact string —
// so an uppercase name is worth a warning even though ferry copes with it.

export interface Target {
  /** Normalised host[:port], as in image references (lowercase; docker.io for Docker Hub). */
  readonly registry: string;
  /** Where the API lives: http(s)://host[:port]. */
  readonly baseUrl: URL;
  /** Host to resolve and connect to (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  readonly tls: boolean;
}

export interface NameCheck {
  readonly result: CheckResult;
  readonly target?: Target;
}

const SCHEME = /^(https?):\/\//i;

export function checkName(input: string, opts: { plainHttp?: boolean; forcePlainHttp?: boolean }): NameCheck {
  const notes: string[] = [];
  let host = input.trim();
  const scheme = SCHEME.exec(host);
  if (scheme) {
    host = host.slice(scheme[0].length);
    if ((scheme[1] ?? '').toLowerCase() === 'http' && !opts.plainHttp) notes.push('http:// ignored: pass --plain-http for plain HTTP');
  }
  const slash = host.indexOf('/');
  if (slash >= 0) {
    const path = host.slice(slash).replace(/\/+$/, '');
    host = host.slice(0, slash);
    if (path) notes.push(`path ${path} ignored: doctor checks the host`);
  }
  let target: Target;
  try {
    const registry = normalizeRegistry(host);
    const baseUrl = registryBaseUrl({ registry, plainHttp: opts.plainHttp ?? false, forcePlainHttp: opts.forcePlainHttp ?? false });
    const tls = baseUrl.protocol === 'https:';
    target = {
      registry,
      baseUrl,
      hostname: baseUrl.hostname.replace(/^\[|\]$/g, ''),
      port: baseUrl.port ? Number(baseUrl.port) : tls ? 443 : 80,
      tls,
    };
  } catch (e) {
    if (e instanceof UsageError) {
      const hint = e.hint ?? 'REGISTRY is HOST[:PORT], e.g. myregistry.azsacr.local.azurestack.external or 127.0.0.1:5000';
      return { result: fail(CheckName.name, e.message, { code: e.code, exitCode: e.exitCode, hint }) };
    }
    // new URL() refuses what the host grammar lets through (a port above 65535).
    return {
      result: fail(CheckName.name, `'${host.slice(0, 200)}' is not a usable registry address`, {
        code: ErrorCode.referenceInvalid,
        exitCode: ExitCode.usage,
        hint: 'REGISTRY is HOST[:PORT] with a port from 1 to 65535',
      }),
    };
  }
  const where = `${target.baseUrl.origin}${target.registry !== target.baseUrl.host ? ` (for ${target.registry})` : ''}`;
  const suffix = notes.length > 0 ? `; ${notes.join('; ')}` : '';
  if (host !== host.toLowerCase()) {
    return {
      target,
      result: warn(
        CheckName.name,
        `'${host}' has uppercase letters: ferry uses ${target.registry} (${where})${suffix}`,
        'Azure Stack Hub ACR answers only to its lowercase login server: write it in lowercase in image references, docker login and auth files',
      ),
    };
  }
  return { target, result: ok(CheckName.name, `${where}${suffix}`) };
}
