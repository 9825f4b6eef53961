import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ErrorCode,
  ExitCode,
  FerryError,
  IntegrityError,
  InternalError,
  NetworkError,
  NotFoundError,
  PartialFailure,
  UsageError,
  isFerryError,
} from '../../src/core/errors.js';

describe('error classes', () => {
  it.each<[string, () => FerryError, number, string]>([
    ['UsageError', () => new UsageError('m'), 2, 'ERR_USAGE'],
    ['AuthError', () => new AuthError('m'), 3, 'ERR_UNAUTHORIZED'],
    ['NotFoundError', () => new NotFoundError('m'), 4, 'ERR_NOT_FOUND'],
    ['IntegrityError', () => new IntegrityError('m'), 5, 'ERR_DIGEST_MISMATCH'],
    ['NetworkError', () => new NetworkError('m'), 6, 'ERR_NETWORK'],
    ['PartialFailure', () => new PartialFailure('m', []), 7, 'ERR_PARTIAL'],
    ['InternalError', () => new InternalError('m'), 1, 'ERR_INTERNAL'],
  ])('%s: exit %i, default code %s, name, instanceof', (name, make, exitCode, code) => {
    const err = make();
    expect(err.exitCode).toBe(exitCode);
    expect(err.code).toBe(code);
    expect(err.name).toBe(name);
    expect(err.message).toBe('m');
    expect(err.hint).toBeUndefined();
    expect(err).toBeInstanceOf(FerryError);
    expect(err).toBeInstanceOf(Error);
    expect(isFerryError(err)).toBe(true);
    expect(String(err)).toBe(`${name}: m`);
    expect(err.stack).toContain(name);
  });

  it('codes, hints and causes are carried', () => {
    const cause = new Error('ECONNRESET');
    const net = new NetworkError('reset', { code: ErrorCode.timeout, hint: 'raise --retries', cause });
    expect(net.code).toBe('ERR_TIMEOUT');
    expect(net.exitCode).toBe(6);
    expect(net.hint).toBe('raise --retries');
    expect(net.cause).toBe(cause);
    expect(new UsageError('x', { code: ErrorCode.tagInvalid }).code).toBe('ERR_TAG_INVALID');
    expect(new AuthError('x', { code: ErrorCode.denied }).exitCode).toBe(3);
    expect(new NotFoundError('x', { code: ErrorCode.manifestUnknown }).code).toBe('ERR_MANIFEST_UNKNOWN');
    expect(new InternalError('x', { hint: 'report it' }).hint).toBe('report it');
    expect('cause' in new UsageError('x')).toBe(false);
  });

  it('IntegrityError keeps subject, expected and actual', () => {
    const err = new IntegrityError('bad', { code: ErrorCode.sizeMismatch, subject: 'blobs/sha256/ab', expected: '10', actual: '9' });
    expect(err).toMatchObject({ code: 'ERR_SIZE_MISMATCH', exitCode: 5, subject: 'blobs/sha256/ab', expected: '10', actual: '9' });
  });

  it('PartialFailure keeps its outcomes', () => {
    const outcomes = [{ subject: 'a:1', ok: true }, { subject: 'b:1', ok: false, error: { code: 'ERR_DENIED', message: 'no' } }];
    expect(new PartialFailure('1 of 2 failed', outcomes).outcomes).toEqual(outcomes);
  });

  it('isFerryError is false for everything else', () => {
    for (const x of [new Error('x'), new TypeError('x'), { code: 'ERR_USAGE', exitCode: 2 }, 'ERR_USAGE', null, undefined]) {
      expect(isFerryError(x)).toBe(false);
    }
  });

  it('ExitCode and ErrorCode values are the contract of design §5', () => {
    expect(ExitCode).toEqual({ ok: 0, internal: 1, usage: 2, auth: 3, notFound: 4, integrity: 5, network: 6, partial: 7, interrupted: 130 });
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^ERR_[A-Z0-9_]+$/);
  });
});
