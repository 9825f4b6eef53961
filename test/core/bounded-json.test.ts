import { describe, expect, it } from 'vitest';
import { jsonDepth, parseBoundedJson, parseBoundedJsonObject } from '../../src/core/bounded-json.js';
import { digestOf } from '../../src/core/digest.js';
import { ErrorCode, IntegrityError } from '../../src/core/errors.js';
import { MAX_JSON_DEPTH } from '../../src/core/limits.js';
import { manifestJson, parseManifest } from '../../src/core/manifest.js';
import { MediaType } from '../../src/core/media-types.js';
import { failure } from '../helpers/thrown.js';

// One bounded parser for JSON from outside: size and nesting depth are checked
// on the raw bytes (one linear scan, strings skipped) before JSON.parse sees them.

const bytes = (text: string) => Buffer.from(text);
const bounds = { subject: 'doc.json', maxBytes: 1024 * 1024, code: ErrorCode.bundleInvalid };

describe('jsonDepth', () => {
  it.each([
    ['1', 0],
    ['{}', 1],
    ['[[],[[]]]', 3],
    ['{"a":{"b":[1,{"c":2}]}}', 4],
    ['"[[[[["', 0],
    ['["\\"[[[", "\\\\", [{}]]', 3],
    ['{"é[":["ü{"]}', 2],
    ['["\\\\\\\"[", [[]]]', 3],
    ['["\\\\", "[\\\\\\\\", []]', 2],
    ['["never closed [[[', 1],
  ])('%s → %i', (text, depth) => {
    expect(jsonDepth(bytes(text))).toBe(depth);
  });

  it('stops counting past the limit (a 10 MB document of brackets is not scanned to its end)', () => {
    expect(jsonDepth(bytes('['.repeat(10_000_000)), 64)).toBe(65);
  });
});

describe('parseBoundedJson', () => {
  it('parses a document within its bounds', () => {
    expect(parseBoundedJson(bytes('{"a":[1,2]}'), bounds)).toEqual({ a: [1, 2] });
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels, naming the subject and the limit`, () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`;
    const err = failure(() => parseBoundedJson(bytes(deep), bounds), IntegrityError);
    expect(err.message).toBe(`doc.json: JSON nested deeper than the ${MAX_JSON_DEPTH}-level limit`);
    expect(err.exitCode).toBe(5);
    expect(err.code).toBe(ErrorCode.bundleInvalid);
    const atLimit = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    expect(() => parseBoundedJson(bytes(atLimit), bounds)).not.toThrow();
  });

  it('refuses a document over its byte bound before parsing it', () => {
    const err = failure(() => parseBoundedJson(bytes('[1, 2, 3]'), { ...bounds, maxBytes: 8 }), IntegrityError);
    expect(err.message).toBe('doc.json: 9 bytes, over the 8-byte limit');
  });

  it('refuses what is not JSON, and (for the object form) what is not an object', () => {
    expect(failure(() => parseBoundedJson(bytes('{"a":'), bounds), IntegrityError).message).toMatch(/^doc\.json: not JSON \(/);
    expect(failure(() => parseBoundedJsonObject(bytes('[]'), { ...bounds, context: 'not a list' }), IntegrityError).message).toBe('doc.json: not a list: not a JSON object');
  });
});

describe('manifests', () => {
  const config = { mediaType: MediaType.ociConfig, digest: digestOf('c'), size: 1 };
  const deepAnnotation = `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":${JSON.stringify(config)},"layers":[],"annotations":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;

  it('parseManifest refuses a manifest with a 100,000-deep field: ERR_MANIFEST_INVALID, exit 5, naming it', () => {
    const err = failure(() => parseManifest(bytes(deepAnnotation), undefined, 'sha256:abc'), IntegrityError);
    expect(err.code).toBe(ErrorCode.manifestInvalid);
    expect(err.message).toBe(`sha256:abc: malformed manifest: JSON nested deeper than the ${MAX_JSON_DEPTH}-level limit`);
  });

  it('manifestJson (for code that rewrites a manifest) holds the same bounds', () => {
    expect(failure(() => manifestJson(bytes(deepAnnotation), 'sha256:abc'), IntegrityError).code).toBe(ErrorCode.manifestInvalid);
  });
});
