import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentSource } from '../../src/core/content.js';
import { IntegrityError } from '../../src/core/errors.js';
import { buildSampleImages, type SampleSet } from '../../src/demo/index.js';
import { checkImage } from '../../src/demo/graph-check.js';

// The demo's verdict is only worth something if it can say "no": the check
// must notice a target serving another image, a source that is not what was
// pushed, and a single flipped byte in a layer.

let work: string;
let set: SampleSet;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-graph-check-'));
  set = await buildSampleImages(join(work, 'samples'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const hello = () => set.images[0]!;
const tools = () => set.images[1]!;

/** A source whose tag resolves to another image. */
function resolvingTo(source: ContentSource, other: ContentSource, otherTag: string): ContentSource {
  return { resolve: () => other.resolve(otherTag), fetch: (d, o) => source.fetch(d, o) };
}

/** A source that flips the middle byte of every blob of at least `minSize` bytes (the layers). */
function corrupting(source: ContentSource, minSize: number): ContentSource {
  return {
    resolve: (r) => source.resolve(r),
    fetch: async (d, o) => {
      const body = await source.fetch(d, o);
      if (d.size < minSize) return body;
      let seen = 0;
      const flip = new Transform({
        transform(chunk: Buffer, _e, cb) {
          const middle = Math.floor(d.size / 2) - seen;
          if (middle >= 0 && middle < chunk.length) chunk[middle] = (chunk[middle] ?? 0) ^ 0xff;
          seen += chunk.length;
          cb(null, chunk);
        },
      });
      return body.pipe(flip);
    },
  };
}

describe('demo graph check', () => {
  it('finds two identical sides equal, having walked every node', async () => {
    const src = set.layout.source('demo/hello');
    const check = await checkImage(hello().root, { repo: src, name: 'a/demo/hello' }, { repo: src, name: 'b/demo/hello' }, '1.0');
    expect(check).toMatchObject({ equal: true, sourceDigest: hello().root.digest, targetDigest: hello().root.digest, nodes: 8 });
    expect(check.problem).toBeUndefined();
  });

  it('says so when the target serves another image under the tag', async () => {
    const src = set.layout.source('demo/hello');
    const wrong = resolvingTo(src, set.layout.source('demo/tools'), '1.0');
    const check = await checkImage(hello().root, { repo: src, name: 'a/demo/hello' }, { repo: wrong, name: 'b/demo/hello' }, '1.0');
    expect(check.equal).toBe(false);
    expect(check.targetDigest).toBe(tools().root.digest);
    expect(check.problem).toMatch(/^the target serves sha256:/);
  });

  it('says so when the source is not what was built', async () => {
    const src = set.layout.source('demo/hello');
    const check = await checkImage(tools().root, { repo: src, name: 'a/demo/hello' }, { repo: src, name: 'b/demo/hello' }, '1.0');
    expect(check.equal).toBe(false);
    expect(check.problem).toMatch(/^the source registry serves/);
  });

  it('fails on one flipped byte in a layer the target serves, naming the target', async () => {
    const src = set.layout.source('demo/hello');
    const damaged = corrupting(src, 100_000);
    const failure = await checkImage(hello().root, { repo: src, name: 'a/demo/hello' }, { repo: damaged, name: 'b/demo/hello' }, '1.0').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as IntegrityError).code).toBe('ERR_DIGEST_MISMATCH');
    expect((failure as IntegrityError).message).toMatch(/^target b\/demo\/hello:1\.0 sha256:[0-9a-f]{64}: digest mismatch/);
  });
});
