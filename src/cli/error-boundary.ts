import { isDiskFull } from '../core/disk-full.js';
import { ErrorCode, ExitCode, InterruptedError, PartialFailure, UsageError, isFerryError, type FerryError } from '../core/errors.js';
// A type only: every command loads this file, and the trust layer is for the few that check signatures.
import type { UntrustedImagesError } from '../trust/index.js';

// The one place that turns a thrown error into what the user sees and the exit
// code (changesets' index.ts idea). User errors get one line and a hint; stacks
// only with --debug; anything not a FerryError is a bug and says so.

export interface BoundaryOptions {
  debug: boolean;
  json: boolean;
  stderr?: NodeJS.WritableStream;
  stdout?: NodeJS.WritableStream;
}

/** A full disk met somewhere no layer turned it into a FerryError (SQLite, a plain write): still the user's to fix. */
function diskFull(err: unknown): UsageError {
  const { path, message } = err as { path?: unknown; message?: unknown };
  const where = typeof path === 'string' ? ` while writing ${path}` : '';
  return new UsageError(`no space left on the device${where} (${String(message)})`, {
    cause: err,
    hint: 'free space, or point --store / -o at a larger disk; rerun the same command to resume',
  });
}

/** UntrustedImagesError, known by its code (instanceof would load src/trust on every run). */
function isUntrusted(err: FerryError): err is UntrustedImagesError {
  return err.code === ErrorCode.untrustedImage && Array.isArray((err as Partial<UntrustedImagesError>).refusals);
}

export function reportError(thrown: unknown, options: BoundaryOptions): number {
  const stderr = options.stderr ?? process.stderr;
  const stdout = options.stdout ?? process.stdout;
  const err = !isFerryError(thrown) && isDiskFull(thrown) ? diskFull(thrown) : thrown;
  if (isFerryError(err)) {
    // An interruption is not an error of the command: said as what it is. Several
    // refused images: each is its own `ferry: error:` line.
    if (err instanceof InterruptedError) stderr.write(`ferry: ${err.message}\n`);
    else for (const line of err.message.split('\n')) stderr.write(`ferry: error: ${line}\n`);
    if (err.hint) stderr.write(`  hint: ${err.hint}\n`);
    // What the one line left out (the raw request of a refusal, every missing blob): --debug shows it.
    if (options.debug && err.details) stderr.write(`  details: ${JSON.stringify(err.details)}\n`);
    if (options.debug && err.stack) stderr.write(`${err.stack}\n`);
    if (options.debug && err instanceof InterruptedError && err.cause instanceof Error && err.cause.stack) stderr.write(`caused while stopping: ${err.cause.stack}\n`);
    if (options.json) {
      const outcomes = err instanceof PartialFailure ? { outcomes: err.outcomes } : isUntrusted(err) ? { refusals: err.refusals.map((r) => ({ image: r.image, digest: r.digest, reason: r.rejection.reason, detail: r.rejection.detail })) } : {};
      stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message, hint: err.hint, exitCode: err.exitCode, ...(err.details ? { details: err.details } : {}) }, ...outcomes })}\n`);
    }
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`ferry: internal error: ${message}\n`);
  stderr.write(options.debug && err instanceof Error && err.stack ? `${err.stack}\n` : '  hint: this is a bug in ferry; rerun with --debug and report the output\n');
  if (options.json) stdout.write(`${JSON.stringify({ ok: false, error: { code: 'ERR_INTERNAL', message, exitCode: ExitCode.internal } })}\n`);
  return ExitCode.internal;
}

/**
 * A reader that went away (`ferry inspect B | head -1`) is a normal end, as for
 * any CLI killed by SIGPIPE: exit 0 at once, no stack trace. Node ignores
 * SIGPIPE and reports EPIPE as an 'error' event instead, which uncaught would
 * crash with a stack. Any other stdout error is still thrown.
 */
export function endOnClosedStdout(stdout: NodeJS.WritableStream = process.stdout, exit: (code: number) => void = (code) => process.exit(code)): void {
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    exit(ExitCode.ok);
  });
}
