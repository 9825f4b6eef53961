import { describe, expect, it } from 'vitest';
import { RegistryErrorCode, errorEnvelope, isRegistryErrorCode, parseErrorEnvelope } from '../../src/registry/api/error-codes.js';

describe('errorEnvelope', () => {
  it('builds the distribution-spec envelope with the default message', () => {
    expect(errorEnvelope('MANIFEST_UNKNOWN')).toStrictEqual({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown to registry' }] });
    expect(JSON.stringify(errorEnvelope('BLOB_UNKNOWN'))).toBe('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
  });

  it('carries a custom message and detail', () => {
    expect(errorEnvelope('NAME_UNKNOWN', 'repository not found', { name: 'x/y' })).toStrictEqual({
      errors: [{ code: 'NAME_UNKNOWN', message: 'repository not found', detail: { name: 'x/y' } }],
    });
  });

  it('round-trips through parseErrorEnvelope', () => {
    const env = errorEnvelope('DENIED', undefined, [{ Type: 'repository', Name: 'a/b', Action: 'push' }]);
    expect(parseErrorEnvelope(JSON.stringify(env))).toEqual(env.errors);
  });
});

describe('RegistryErrorCode', () => {
  it('has the spec statuses', () => {
    expect(RegistryErrorCode.UNAUTHORIZED.status).toBe(401);
    expect(RegistryErrorCode.DENIED.status).toBe(403);
    expect(RegistryErrorCode.MANIFEST_UNKNOWN.status).toBe(404);
    expect(RegistryErrorCode.TOOMANYREQUESTS.status).toBe(429);
    expect(RegistryErrorCode.RANGE_INVALID.status).toBe(416);
  });

  it('isRegistryErrorCode knows own names only', () => {
    expect(isRegistryErrorCode('BLOB_UPLOAD_UNKNOWN')).toBe(true);
    expect(isRegistryErrorCode('blob_unknown')).toBe(false);
    expect(isRegistryErrorCode('toString')).toBe(false);
    expect(isRegistryErrorCode('__proto__')).toBe(false);
  });
});

describe('parseErrorEnvelope', () => {
  it.each([
    [
      'distribution manifest unknown',
      '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}',
      [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }],
    ],
    [
      'Docker Hub unauthorized',
      '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"library/nginx","Action":"pull"}]}]}\n',
      [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: [{ Type: 'repository', Class: '', Name: 'library/nginx', Action: 'pull' }] }],
    ],
    [
      'two errors, one without detail',
      '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:ab"},{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}',
      [
        { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: 'sha256:ab' },
        { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: undefined },
      ],
    ],
    ['missing fields become UNKNOWN and empty', '{"errors":[{}]}', [{ code: 'UNKNOWN', message: '', detail: undefined }]],
    ['non-object entries dropped', '{"errors":[null,"x",7,{"code":"DENIED","message":"no"}]}', [{ code: 'DENIED', message: 'no', detail: undefined }]],
  ])('%s', (_label, body, expected) => {
    expect(parseErrorEnvelope(body)).toStrictEqual(expected);
  });

  it.each(['', 'not json', '<html><body>502 Bad Gateway</body></html>', 'null', '42', '"errors"', '[]', '{}', '{"errors":"boom"}', '{"errors":{"code":"X"}}', '{"message":"x"}'])(
    'garbage %j → []',
    (body) => {
      expect(parseErrorEnvelope(body)).toEqual([]);
    },
  );
});
