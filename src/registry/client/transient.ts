import { ErrorCode, FerryError } from '../../core/index.js';
import { registryErrorDetails } from './response-error.js';
import { isRetryableError } from './transport/retry.js';

// Which failures are worth another try by an owner that can resume (a chunked
// upload from the registry's offset, a download from its byte offset): the
// network, timeouts, rate limits, a registry 5xx. Not: integrity, auth, 4xx.

export function isTransient(err: unknown): boolean {
  if (!(err instanceof FerryError)) return isRetryableError(err);
  if (err.code === ErrorCode.network || err.code === ErrorCode.timeout || err.code === ErrorCode.tooManyRequests) return true;
  if (err.code === ErrorCode.registry) return (registryErrorDetails(err)?.status ?? 0) >= 500;
  return false;
}
