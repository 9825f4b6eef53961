import type { Argv } from 'yargs';
import { UsageError } from '../core/errors.js';
import { parseCreds, type RegistryClientInit } from '../registry/client/index.js';

// `ferry copy`'s per-side registry flags, named as skopeo names them
// (--src-creds, --dest-ca-cert, …). Each overrides the shared flag (--creds,
// --ca-cert, …) for its side only; a side without them uses the shared ones.

export type Side = 'src' | 'dest';
export type ClientOverrides = Partial<Pick<RegistryClientInit, 'credentials' | 'authfile' | 'plainHttp' | 'tlsVerify' | 'caCert'>>;

export interface SideArgs {
  'src-creds'?: string;
  'dest-creds'?: string;
  'src-authfile'?: string;
  'dest-authfile'?: string;
  'src-plain-http'?: boolean;
  'dest-plain-http'?: boolean;
  'src-tls-verify'?: boolean;
  'dest-tls-verify'?: boolean;
  'src-ca-cert'?: string;
  'dest-ca-cert'?: string;
}

const WHOSE: Record<Side, string> = { src: 'the source registry', dest: 'the destination registry' };

export function withSideFlags<T>(y: Argv<T>): Argv<T & SideArgs> {
  let out = y as unknown as Argv<T & SideArgs>;
  const keys: string[] = [];
  for (const side of ['src', 'dest'] as const) {
    out = out
      .option(`${side}-creds`, { type: 'string', describe: `USER:PASSWORD for ${WHOSE[side]} (default --creds)` })
      .option(`${side}-authfile`, { type: 'string', describe: `auth file for ${WHOSE[side]} (default --authfile)` })
      .option(`${side}-plain-http`, { type: 'boolean', describe: `talk HTTP to ${WHOSE[side]} (default --plain-http)` })
      .option(`${side}-tls-verify`, { type: 'boolean', describe: `verify the certificate of ${WHOSE[side]} (default --tls-verify)` })
      .option(`${side}-ca-cert`, { type: 'string', describe: `PEM CA to trust for ${WHOSE[side]} (default --ca-cert)` }) as unknown as Argv<T & SideArgs>;
    keys.push(`${side}-creds`, `${side}-authfile`, `${side}-plain-http`, `${side}-tls-verify`, `${side}-ca-cert`);
  }
  return out.group(keys, 'Source and destination (override the registry flags for one side):');
}

/** What one side's flags change in the shared client settings (nothing when none is given). */
export function sideOverrides(args: SideArgs, side: Side): ClientOverrides {
  const creds = args[`${side}-creds`];
  const authfile = args[`${side}-authfile`];
  const plainHttp = args[`${side}-plain-http`];
  const tlsVerify = args[`${side}-tls-verify`];
  const caCert = args[`${side}-ca-cert`];
  return {
    ...(creds !== undefined ? { credentials: parseCreds(creds) } : {}),
    ...(authfile !== undefined ? { authfile } : {}),
    ...(plainHttp !== undefined ? { plainHttp } : {}),
    ...(tlsVerify !== undefined ? { tlsVerify } : {}),
    ...(caCert !== undefined ? { caCert } : {}),
  };
}

/**
 * The per-host settings of a copy from `source` to `dest`. One registry serves
 * both sides through one client, so differing side flags for it are refused.
 */
export function perHostOverrides(args: SideArgs, source: string, dest: string): Map<string, ClientOverrides> {
  const src = sideOverrides(args, 'src');
  const dst = sideOverrides(args, 'dest');
  if (source === dest) {
    if (JSON.stringify(src) !== JSON.stringify(dst) && Object.keys(src).length + Object.keys(dst).length > 0) {
      throw new UsageError(`source and destination are both on ${source}: the --src-* and --dest-* flags cannot differ for one registry`, {
        hint: 'give the shared flags (--creds, --ca-cert, --plain-http, --tls-verify) instead',
      });
    }
    return new Map([[source, src]]);
  }
  return new Map([
    [source, src],
    [dest, dst],
  ]);
}
