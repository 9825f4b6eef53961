import { describe, expect, it } from 'vitest';
import {
  formatReference,
  parseReference,
  referenceTarget,
  repositoryName,
  validateRepository,
  validateTag,
  type Reference,
} from '../../src/core/reference.js';
import { failure } from '../helpers/thrown.js';

const HEX = 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';
const D = `sha256:${HEX}`;

// input → [registry, repository, tag, digest, formatted]
const VALID: [string, string, string, string | undefined, string | undefined, string][] = [
  ['nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
  ['library/nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined, 'docker.io/library/nginx:1.25'],
  ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
  ['index.docker.io/library/nginx', 'docker.io', 'library/nginx', 'latest', undefined, 'docker.io/library/nginx:latest'],
  ['registry-1.docker.io/nginx:stable', 'docker.io', 'library/nginx', 'stable', undefined, 'docker.io/library/nginx:stable'],
  ['bitnami/redis:7.2', 'docker.io', 'bitnami/redis', '7.2', undefined, 'docker.io/bitnami/redis:7.2'],
  ['mcr.microsoft.com/windows/servercore:ltsc2019', 'mcr.microsoft.com', 'windows/servercore', 'ltsc2019', undefined, 'mcr.microsoft.com/windows/servercore:ltsc2019'],
  [`mcr.microsoft.com/windows/nanoserver:ltsc2022@${D}`, 'mcr.microsoft.com', 'windows/nanoserver', 'ltsc2022', D, `mcr.microsoft.com/windows/nanoserver:ltsc2022@${D}`],
  [`localhost:5000/a/b@${D}`, 'localhost:5000', 'a/b', undefined, D, `localhost:5000/a/b@${D}`],
  ['localhost/foo', 'localhost', 'foo', 'latest', undefined, 'localhost/foo:latest'],
  ['127.0.0.1:5000/x/y:z', '127.0.0.1:5000', 'x/y', 'z', undefined, '127.0.0.1:5000/x/y:z'],
  ['[::1]:5000/x:y', '[::1]:5000', 'x', 'y', undefined, '[::1]:5000/x:y'],
  ['myregistry.azsacr.local.azurestack.external/x:y', 'myregistry.azsacr.local.azurestack.external', 'x', 'y', undefined, 'myregistry.azsacr.local.azurestack.external/x:y'],
  ['ghcr.io/org/app:v1.2.3', 'ghcr.io', 'org/app', 'v1.2.3', undefined, 'ghcr.io/org/app:v1.2.3'],
  ['quay.io/prometheus/node-exporter:v1.7.0', 'quay.io', 'prometheus/node-exporter', 'v1.7.0', undefined, 'quay.io/prometheus/node-exporter:v1.7.0'],
  ['registry.k8s.io/pause:3.9', 'registry.k8s.io', 'pause', '3.9', undefined, 'registry.k8s.io/pause:3.9'],
  ['MyRegistry.IO/team/app:1', 'myregistry.io', 'team/app', '1', undefined, 'myregistry.io/team/app:1'],
  ['my_user/app', 'docker.io', 'my_user/app', 'latest', undefined, 'docker.io/my_user/app:latest'],
  ['a/b__c/d-e--f.g:Latest_1', 'docker.io', 'a/b__c/d-e--f.g', 'Latest_1', undefined, 'docker.io/a/b__c/d-e--f.g:Latest_1'],
];

describe('parseReference: valid references', () => {
  it.each(VALID)('%s', (input, registry, repository, tag, digest, formatted) => {
    const ref = parseReference(input);
    const expected: Reference = { registry, repository };
    if (tag !== undefined) expected.tag = tag;
    if (digest !== undefined) expected.digest = digest as NonNullable<Reference['digest']>;
    expect(ref).toStrictEqual(expected);
    expect(formatReference(ref)).toBe(formatted);
    // The formatted form is a fixed point.
    expect(parseReference(formatted)).toStrictEqual(ref);
  });

  it('uses defaultTag only when neither tag nor digest is given', () => {
    expect(parseReference('nginx', { defaultTag: 'stable' }).tag).toBe('stable');
    expect(parseReference('nginx:1', { defaultTag: 'stable' }).tag).toBe('1');
    expect(parseReference(`nginx@${D}`, { defaultTag: 'stable' }).tag).toBeUndefined();
  });
});

// input → [code, substring of message]
const INVALID: [string, string, string][] = [
  ['MyRepo', 'ERR_NAME_INVALID', "repository names may contain only lowercase letters, digits, '.', '_', '-' and '/': got 'MyRepo'"],
  ['docker.io/Library/nginx', 'ERR_NAME_INVALID', "got 'Library/nginx'"],
  ['nginx:', 'ERR_TAG_INVALID', "'' is not a valid tag"],
  ['nginx@sha256:abc', 'ERR_DIGEST_INVALID', 'sha256:abc'],
  ['nginx@md5:d41d8cd98f00b204e9800998ecf8427e', 'ERR_DIGEST_ALGORITHM', "'md5'"],
  ['a//b', 'ERR_NAME_INVALID', "got 'a//b'"],
  ['-foo/bar', 'ERR_NAME_INVALID', "got '-foo/bar'"],
  ['foo/bar_', 'ERR_NAME_INVALID', "got 'foo/bar_'"],
  ['', 'ERR_REFERENCE_INVALID', 'empty reference'],
  ['   ', 'ERR_REFERENCE_INVALID', 'empty reference'],
  ['a'.repeat(300), 'ERR_NAME_INVALID', 'longer than 255'],
  [`nginx:${'t'.repeat(129)}`, 'ERR_TAG_INVALID', 'is not a valid tag'],
  ['nginx:.hidden', 'ERR_TAG_INVALID', 'is not a valid tag'],
  ['bad_host.io:5000/x', 'ERR_REFERENCE_INVALID', 'is not a valid registry host'],
];

describe('parseReference: invalid references', () => {
  it.each(INVALID)('%s → %s', (input, code, fragment) => {
    const err = failure(() => parseReference(input));
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(fragment);
  });

  it('length limit counts the normalised name: 255 passes, 256 fails', () => {
    // 'r.io/' is 5 characters.
    expect(parseReference(`r.io/${'a'.repeat(250)}`).repository).toHaveLength(250);
    expect(failure(() => parseReference(`r.io/${'a'.repeat(251)}`)).code).toBe('ERR_NAME_INVALID');
    expect(parseReference(`x:${'t'.repeat(128)}`).tag).toHaveLength(128);
  });
});

describe('validateRepository / validateTag', () => {
  it('returns valid values unchanged', () => {
    expect(validateRepository('library/nginx')).toBe('library/nginx');
    expect(validateRepository('a-b/c.d/e_f/g__h')).toBe('a-b/c.d/e_f/g__h');
    expect(validateTag('v1.2.3-rc.1_x')).toBe('v1.2.3-rc.1_x');
    expect(validateTag('_a')).toBe('_a');
  });

  it.each(['', 'MyRepo', 'a//b', '/a', 'a/', 'a..b', 'a._b', 'a/-b', 'a b'])('rejects repository %j', (name) => {
    const err = failure(() => validateRepository(name));
    expect(err.code).toBe('ERR_NAME_INVALID');
    expect(err.exitCode).toBe(2);
  });

  it('hints at the lowercase name when the name has capitals', () => {
    expect(failure(() => validateRepository('Team/App')).hint).toBe("use 'team/app'");
    expect(failure(() => validateRepository('a//b')).hint).toContain('start and end with a letter or digit');
  });

  it.each(['', '-a', '.a', 'a:b', 'a/b', 't'.repeat(129)])('rejects tag %j', (tag) => {
    const err = failure(() => validateTag(tag));
    expect(err.code).toBe('ERR_TAG_INVALID');
    expect(err.exitCode).toBe(2);
  });
});

describe('formatting helpers', () => {
  it('repositoryName, formatReference and referenceTarget', () => {
    const tagged = parseReference('ghcr.io/org/app:v1');
    const pinned = parseReference(`ghcr.io/org/app:v1@${D}`);
    expect(repositoryName(tagged)).toBe('ghcr.io/org/app');
    expect(referenceTarget(tagged)).toBe('v1');
    expect(referenceTarget(pinned)).toBe(D); // the digest wins over the tag
    expect(referenceTarget({ registry: 'r.io', repository: 'x' })).toBe('latest');
    expect(formatReference({ registry: 'r.io', repository: 'x' })).toBe('r.io/x');
    expect(formatReference(parseReference(`r.io/x@${D}`))).toBe(`r.io/x@${D}`);
  });
});
