// One error hierarchy for the whole of ferry. Every error a user can cause is a
// FerryError with a stable code, a one-line message, an optional hint saying what
// to do, and the exit code of its category (design §5). Library code throws these;
// only src/cli/ prints them or exits.

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  integrity: 5,
  network: 6,
  partial: 7,
  /** SIGINT/SIGTERM stopped the command (128 + SIGINT, as shells and git report it). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable error codes. Tests, docs/troubleshooting.md and `--json` output refer to these. */
export const ErrorCode = {
  internal: 'ERR_INTERNAL',
  usage: 'ERR_USAGE',
  referenceInvalid: 'ERR_REFERENCE_INVALID',
  nameInvalid: 'ERR_NAME_INVALID',
  tagInvalid: 'ERR_TAG_INVALID',
  digestInvalid: 'ERR_DIGEST_INVALID',
  digestAlgorithm: 'ERR_DIGEST_ALGORITHM',
  platformInvalid: 'ERR_PLATFORM_INVALID',
  unsupportedMediaType: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  manifestInvalid: 'ERR_MANIFEST_INVALID',
  manifestTooLarge: 'ERR_MANIFEST_TOO_LARGE',
  storeVersion: 'ERR_STORE_VERSION',
  storeLocked: 'ERR_STORE_LOCKED',
  digestMismatch: 'ERR_DIGEST_MISMATCH',
  sizeMismatch: 'ERR_SIZE_MISMATCH',
  bundleInvalid: 'ERR_BUNDLE_INVALID',
  signatureInvalid: 'ERR_SIGNATURE_INVALID',
  signatureMissing: 'ERR_SIGNATURE_MISSING',
  untrustedImage: 'ERR_UNTRUSTED_IMAGE',
  keyInvalid: 'ERR_KEY_INVALID',
  unauthorized: 'ERR_UNAUTHORIZED',
  denied: 'ERR_DENIED',
  quotaExceeded: 'ERR_QUOTA_EXCEEDED',
  locked: 'ERR_LOCKED',
  unsupported: 'ERR_UNSUPPORTED',
  notFound: 'ERR_NOT_FOUND',
  manifestUnknown: 'ERR_MANIFEST_UNKNOWN',
  blobUnknown: 'ERR_BLOB_UNKNOWN',
  nameUnknown: 'ERR_NAME_UNKNOWN',
  tooManyRequests: 'ERR_TOO_MANY_REQUESTS',
  registry: 'ERR_REGISTRY',
  network: 'ERR_NETWORK',
  timeout: 'ERR_TIMEOUT',
  tls: 'ERR_TLS',
  partial: 'ERR_PARTIAL',
  interrupted: 'ERR_INTERRUPTED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface FerryErrorOptions {
  /** What the user can do about it, one line. */
  hint?: string | undefined;
  cause?: unknown;
  /** Everything the message had to shorten (every missing blob, say): JSON output carries it whole as `error.details`. */
  details?: Record<string, unknown>;
}

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, exitCode: ExitCode, options: FerryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Bad flags, bad references, bad names: the user typed something ferry cannot use. Exit 2. */
export class UsageError extends FerryError {
  constructor(message: string, options: FerryErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.usage, message, ExitCode.usage, options);
  }
}

/** 401/403, missing or wrong credentials, missing role. Exit 3. */
export class AuthError extends FerryError {
  constructor(message: string, options: FerryErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.unauthorized, message, ExitCode.auth, options);
  }
}

/** A reference, manifest, blob or repository that does not exist. Exit 4. */
export class NotFoundError extends FerryError {
  constructor(message: string, options: FerryErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.notFound, message, ExitCode.notFound, options);
  }
}

/** Bytes that are not what they claim: digest, size, signature, malformed bundle or manifest. Exit 5. */
export class IntegrityError extends FerryError {
  readonly subject: string | undefined;
  readonly expected: string | undefined;
  readonly actual: string | undefined;

  constructor(
    message: string,
    options: FerryErrorOptions & { code?: ErrorCode; subject?: string; expected?: string; actual?: string } = {},
  ) {
    super(options.code ?? ErrorCode.digestMismatch, message, ExitCode.integrity, options);
    this.subject = options.subject;
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/** DNS, connection refused, reset, timeout, TLS handshake: after retries. Exit 6. */
export class NetworkError extends FerryError {
  constructor(message: string, options: FerryErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.network, message, ExitCode.network, options);
  }
}

export interface Outcome {
  subject: string;
  ok: boolean;
  error?: { code: string; message: string };
}

/** Some images failed, the rest were done. Exit 7. */
export class PartialFailure extends FerryError {
  readonly outcomes: Outcome[];
  constructor(message: string, outcomes: Outcome[], options: FerryErrorOptions = {}) {
    super(ErrorCode.partial, message, ExitCode.partial, options);
    this.outcomes = outcomes;
  }
}

/** SIGINT or SIGTERM: the command stopped where it was, resumable. Exit 130. */
export class InterruptedError extends FerryError {
  constructor(options: FerryErrorOptions = {}) {
    super(ErrorCode.interrupted, 'interrupted; rerun the same command to resume', ExitCode.interrupted, options);
  }
}

/** A bug in ferry, or a state it cannot explain. Exit 1. */
export class InternalError extends FerryError {
  constructor(message: string, options: FerryErrorOptions = {}) {
    super(ErrorCode.internal, message, ExitCode.internal, options);
  }
}

export function isFerryError(err: unknown): err is FerryError {
  return err instanceof FerryError;
}
