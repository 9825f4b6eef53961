import type { Clock } from '../../core/clock.js';
import { UsageError } from '../../core/index.js';
import { isLoopbackHost as isLoopback } from '../../core/loopback.js';
import type { ServedStore } from './context.js';
import type { RequestLogEntry } from './request-log.js';
import type { TlsFiles } from './tls.js';

// Everything `ferry serve` can be told, with defaults, and the one rule that
// keeps an unauthenticated registry off the network.

export interface RegistryServerOptions {
  /** The store served: repositories, blobs and uploads all live there. */
  readonly store: ServedStore;
  /** close() also closes the store (the CLI opened it for the server). Default false. */
  readonly ownsStore?: boolean;
  /** Address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Port; 0 picks a free one (see RegistryServer.port). Default 5000. */
  readonly port?: number;
  /** Serve https with these PEM files (TLS 1.2 minimum). Without them: plain http, labelled as such. */
  readonly tls?: TlsFiles;
  /** Users file (JSON or YAML): enables Basic and bearer-token auth with per-repository roles. */
  readonly users?: string;
  /** With a users file: let anonymous clients pull everything. Default false. */
  readonly anonymousPull?: boolean;
  /** Refuse pushes and deletes (405 UNSUPPORTED). */
  readonly readOnly?: boolean;
  /** Allow listening beyond loopback without a users file (everybody may push and delete). */
  readonly insecureOpen?: boolean;
  /** An upload session idle this long is aborted and its partial deleted. Default 1 hour. */
  readonly uploadTtlMs?: number;
  /** Upload sessions open at once; more are answered 429. Default 256. */
  readonly maxUploads?: number;
  /** Lifetime of tokens from /token. Default 900 s. */
  readonly tokenTtlSeconds?: number;
  /** HMAC key for tokens; default random per start (tokens then die with the process). */
  readonly tokenSecret?: Uint8Array;
  /** The challenge sent to anonymous clients; default 'bearer' (what Docker, containerd, podman expect). */
  readonly challenge?: 'bearer' | 'basic';
  /** Token `service` name; default 'ferry'. */
  readonly service?: string;
  /** Base URL clients use (behind a proxy); default from each request's Host header. */
  readonly publicUrl?: string;
  /** A client must send a request's headers within this long. Default 30 s. */
  readonly headersTimeoutMs?: number;
  /**
   * A client that sends nothing of a request body it announced, or reads nothing of
   * an answer, for this long is cut (distribution's http.ReadTimeout, per idle gap). Default 60 s.
   */
  readonly idleTimeoutMs?: number;
  /** Wait this long for in-flight requests at close() before cutting connections. Default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /** Called once per request: method, path, status, bytes, ms, user — never credentials. */
  readonly onRequest?: (entry: RequestLogEntry) => void;
  /** Now, for token issue and expiry, upload session expiry, upload pins and users-file rechecks; default the system clock. */
  readonly clock?: Clock;
  /** Called for errors the server did not expect (answered 500) and janitor failures. */
  readonly onError?: (error: unknown, where: string) => void;
}

export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly anonymousPull: boolean;
  readonly readOnly: boolean;
  readonly uploadTtlMs: number;
  readonly maxUploads: number;
  readonly tokenTtlSeconds: number;
  readonly challenge: 'bearer' | 'basic';
  readonly service: string;
  readonly shutdownTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export { isLoopbackHost as isLoopback } from '../../core/loopback.js';

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`${what} must be a positive number, got ${String(value)}`);
  return v;
}

/** Fills defaults and refuses combinations that would be unsafe or meaningless. */
export function resolveOptions(opts: RegistryServerOptions): ResolvedOptions {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 5000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid port ${String(port)}: expected 0-65535`);
  if (opts.users === undefined && !isLoopback(host) && !opts.insecureOpen) {
    throw new UsageError(`refusing to serve on ${host} without a users file: anyone who can reach it could push and delete`, {
      hint: 'pass --users FILE (create one with `ferry serve users add`), listen on 127.0.0.1, or accept the risk with --insecure-open',
    });
  }
  if (opts.anonymousPull && opts.users === undefined) {
    throw new UsageError('anonymous pull only makes sense with a users file: without one, everybody may do everything already');
  }
  return {
    host,
    port,
    anonymousPull: opts.anonymousPull ?? false,
    readOnly: opts.readOnly ?? false,
    uploadTtlMs: positive(opts.uploadTtlMs, 60 * 60_000, 'upload TTL'),
    maxUploads: positive(opts.maxUploads, 256, 'max uploads'),
    tokenTtlSeconds: Math.floor(positive(opts.tokenTtlSeconds, 900, 'token TTL')),
    challenge: opts.challenge ?? 'bearer',
    service: opts.service ?? 'ferry',
    shutdownTimeoutMs: positive(opts.shutdownTimeoutMs, 30_000, 'shutdown timeout'),
    headersTimeoutMs: positive(opts.headersTimeoutMs, 30_000, 'headers timeout'),
    idleTimeoutMs: positive(opts.idleTimeoutMs, 60_000, 'idle timeout'),
  };
}

/** The start-up lines the CLI prints: where, how secured, and every risk said out loud. */
export function bannerLines(url: string, storeDir: string, opts: RegistryServerOptions, resolved: ResolvedOptions): string[] {
  const lines = [`serving store ${storeDir} at ${url}`];
  if (!opts.tls) lines.push('WARNING: plain HTTP — traffic and credentials are NOT encrypted; clients need --plain-http / --tls-verify=false');
  if (opts.users === undefined) {
    lines.push(
      isLoopback(resolved.host)
        ? `no users file: anyone on this machine may pull, push and delete (listening on ${resolved.host} only)`
        : `WARNING: no users file and --insecure-open: ANYONE who can reach ${resolved.host} may pull, push and delete`,
    );
  } else {
    lines.push(`users from ${opts.users}${resolved.anonymousPull ? '; anonymous pull allowed' : ''}`);
  }
  if (resolved.readOnly) lines.push('read-only: pushes and deletes are refused');
  return lines;
}
