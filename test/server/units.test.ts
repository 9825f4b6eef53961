import { describe, expect, it } from 'vitest';
import { patternMatches, rolesFor } from '../../src/registry/server/auth/access.js';
import { hashPassword, verifyPassword } from '../../src/registry/server/auth/password.js';
import { parseScopes } from '../../src/registry/server/auth/scope.js';
import { issueToken, verifyToken } from '../../src/registry/server/auth/token.js';
import { parseUsersFile } from '../../src/registry/server/auth/users-file.js';
import { candidateRepositories, upstreamRepositoryName } from '../../src/registry/server/mirror-namespace.js';
import { isLoopback } from '../../src/registry/server/options.js';
import { nextLink, parsePageRequest } from '../../src/registry/server/pagination.js';
import { parseContentRange, parseRangeHeader, uploadedRange } from '../../src/registry/server/range.js';

// The server's pure parts: header parsers, role patterns, tokens, passwords,
// the mirror name mapping. No network, no store.

describe('Range and Content-Range', () => {
  it('parses the Range forms a client sends', () => {
    expect(parseRangeHeader(undefined, 100)).toEqual({ kind: 'full' });
    expect(parseRangeHeader('bytes=0-9', 100)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRangeHeader('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRangeHeader('bytes=90-500', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRangeHeader('bytes=-5', 100)).toEqual({ kind: 'partial', start: 95, end: 99 });
    expect(parseRangeHeader('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    // Not understood → the whole blob (RFC 9110 lets a server ignore Range).
    for (const h of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-2', 'bytes=a-b', 'garbage']) expect(parseRangeHeader(h, 100)).toEqual({ kind: 'full' });
  });

  it('parses Content-Range and refuses garbage with 416 BLOB_UPLOAD_INVALID', () => {
    expect(parseContentRange('0-1023')).toEqual({ start: 0, end: 1023 });
    expect(parseContentRange('bytes 10-19/*')).toEqual({ start: 10, end: 19 });
    expect(parseContentRange('bytes=10-19')).toEqual({ start: 10, end: 19 });
    for (const bad of ['', '-5', '5-', 'a-b', '1-2-3x', '99999999999999999-1']) {
      expect(() => parseContentRange(bad)).toThrow(expect.objectContaining({ code: 'BLOB_UPLOAD_INVALID', status: 416 }));
    }
    expect(uploadedRange(0)).toBe('0-0');
    expect(uploadedRange(10)).toBe('0-9');
  });

  it('pages: n capped, bad n refused, Link built', () => {
    expect(parsePageRequest(new URLSearchParams('n=5&last=b'))).toEqual({ n: 5, last: 'b' });
    expect(parsePageRequest(new URLSearchParams('n=999999')).n).toBe(10_000);
    expect(() => parsePageRequest(new URLSearchParams('n=x'))).toThrow(expect.objectContaining({ code: 'PAGINATION_NUMBER_INVALID' }));
    expect(nextLink('/v2/a/tags/list', 2, 'v1.0')).toBe('</v2/a/tags/list?n=2&last=v1.0>; rel="next"');
  });
});

describe('roles and scopes', () => {
  it('matches repository patterns with * across slashes', () => {
    expect(patternMatches('*', 'anything/at/all')).toBe(true);
    expect(patternMatches('team-a/*', 'team-a/app')).toBe(true);
    expect(patternMatches('team-a/*', 'team-a/x/y')).toBe(true);
    expect(patternMatches('team-a/*', 'team-ab/app')).toBe(false);
    expect(patternMatches('team-a/*', 'team-a')).toBe(false);
    expect(patternMatches('*/app', 'x/y/app')).toBe(true);
    expect(patternMatches('a*b*c', 'abc')).toBe(true);
    expect(patternMatches('a*b*c', 'acb')).toBe(false);
    expect(patternMatches('exact/name', 'exact/name')).toBe(true);
  });

  it('push implies pull; delete stands alone; rules add up', () => {
    expect([...rolesFor([{ pattern: 'a/*', roles: ['push'] }], 'a/x')].sort()).toEqual(['pull', 'push']);
    expect([...rolesFor([{ pattern: '*', roles: ['delete'] }], 'a/x')]).toEqual(['delete']);
    expect([...rolesFor([{ pattern: '*', roles: ['pull'] }, { pattern: 'a/*', roles: ['delete'] }], 'a/x')].sort()).toEqual(['delete', 'pull']);
    expect(rolesFor([{ pattern: 'b/*', roles: ['pull'] }], 'a/x').size).toBe(0);
  });

  it('parses token scopes, names with colons included', () => {
    expect(parseScopes(['repository:a/b:pull,push registry:catalog:*', 'repository:docker.io_5000/x:pull', 'bogus', 'repository:c:fly'])).toEqual([
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'docker.io_5000/x', actions: ['pull'] },
      { type: 'repository', name: 'c', actions: [] },
    ]);
  });
});

describe('tokens and passwords', () => {
  const secret = Buffer.alloc(32, 1);
  const access = [{ type: 'repository' as const, name: 'a/b', actions: ['pull' as const] }];

  it('verifies its own tokens and refuses expired, foreign-service and foreign-key ones', () => {
    const now = Date.now();
    const { token } = issueToken(secret, { subject: 'u', service: 'ferry', access, ttlSeconds: 300, now });
    expect(verifyToken(secret, token, 'ferry', now)?.access).toEqual(access);
    expect(verifyToken(secret, token, 'other', now)).toBeUndefined();
    expect(verifyToken(Buffer.alloc(32, 2), token, 'ferry', now)).toBeUndefined();
    expect(verifyToken(secret, token, 'ferry', now + 3600_000)).toBeUndefined();
    expect(verifyToken(secret, `${token}x`, 'ferry', now)).toBeUndefined();
  });

  it('hashes passwords with scrypt and a salt; verifies only the right one', async () => {
    const a = await hashPassword('pw');
    const b = await hashPassword('pw');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('pw', a)).toBe(true);
    expect(await verifyPassword('pW', a)).toBe(false);
    expect(await verifyPassword('pw', 'scrypt$1$1$1$x$y')).toBe(false);
  });

  it('refuses malformed users files with a one-line reason', () => {
    expect(() => parseUsersFile({ users: [{ name: 'a', password: 'x' }] }, 'f')).toThrow(/no valid passwordHash/);
    expect(() => parseUsersFile({ people: [] }, 'f')).toThrow(/`users` list/);
    expect(() => parseUsersFile({ users: [{ name: 'bad:name', passwordHash: 'x' }] }, 'f')).toThrow(/name/);
    expect(parseUsersFile(null, 'f')).toEqual({ users: [] });
  });
});

describe('mirror names and addresses', () => {
  it('maps ?ns= upstream hosts to store repository names, then falls back to the plain name', () => {
    expect(upstreamRepositoryName('docker.io', 'library/alpine')).toBe('docker.io/library/alpine');
    expect(upstreamRepositoryName('registry-1.docker.io', 'library/alpine')).toBe('docker.io/library/alpine');
    expect(upstreamRepositoryName('myreg:5000', 'team/app')).toBe('myreg_5000/team/app');
    expect(candidateRepositories('library/alpine', 'docker.io')).toEqual(['docker.io/library/alpine', 'library/alpine']);
    expect(candidateRepositories('library/alpine', null)).toEqual(['library/alpine']);
    expect(candidateRepositories('x', 'not a host!')).toEqual(['x']);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopback(h)).toBe(false);
  });
});
