// A conformance suite for any core `Repository` (containerd's ContentSuite idea):
// the store's repository runs it here; the registry client and `ferry serve` can
// run the same cases against their own setup function.
import { describe, expect, it } from 'vitest';
import { ErrorCode, IntegrityError, NotFoundError, type Repository } from '../../../src/core/index.js';
import { blob, body, bytesFor, config, imageManifest, layer, readAll } from './store-fixtures.js';

export interface SuiteTarget {
  repository: Repository;
  cleanup: () => Promise<void>;
}

export function contentSuite(name: string, setup: () => Promise<SuiteTarget>): void {
  describe(`content suite: ${name}`, () => {
    const withTarget = (fn: (repo: Repository) => Promise<void>) => async () => {
      const t = await setup();
      try {
        await fn(t.repository);
      } finally {
        await t.cleanup();
      }
    };

    it(
      'pushes a blob, then exists() and fetch() return exactly its bytes, from an offset too',
      withTarget(async (repo) => {
        const l = layer('suite-blob', 100_000);
        expect(await repo.exists(l.desc)).toBe(false);
        await repo.push(l.desc, body(l.bytes));
        expect(await repo.exists(l.desc)).toBe(true);
        expect((await readAll(await repo.fetch(l.desc))).equals(l.bytes)).toBe(true);
        expect((await readAll(await repo.fetch(l.desc, { offset: 99_000 }))).equals(l.bytes.subarray(99_000))).toBe(true);
      }),
    );

    it(
      'accepts a second push of the same content',
      withTarget(async (repo) => {
        const l = layer('suite-twice', 5000);
        await repo.push(l.desc, body(l.bytes));
        await repo.push(l.desc, body(l.bytes));
        expect(await repo.exists(l.desc)).toBe(true);
      }),
    );

    it(
      'refuses bytes that do not match the digest, and keeps nothing',
      withTarget(async (repo) => {
        const l = layer('suite-bad', 4096);
        const wrong = bytesFor('something else', 4096);
        const err = await repo.push(l.desc, body(wrong)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(IntegrityError);
        expect((err as IntegrityError).code).toBe(ErrorCode.digestMismatch);
        expect((err as IntegrityError).message).toContain(l.desc.digest);
        expect(await repo.exists(l.desc)).toBe(false);
      }),
    );

    it(
      'refuses a body longer or shorter than the descriptor size',
      withTarget(async (repo) => {
        const l = layer('suite-size', 4096);
        const long = await repo.push(l.desc, body(Buffer.concat([l.bytes, Buffer.from('x')]))).catch((e: unknown) => e);
        expect((long as IntegrityError).code).toBe(ErrorCode.sizeMismatch);
        const short = await repo.push(l.desc, body(l.bytes.subarray(1))).catch((e: unknown) => e);
        expect((short as IntegrityError).code).toBe(ErrorCode.sizeMismatch);
        expect(await repo.exists(l.desc)).toBe(false);
      }),
    );

    it(
      'pushes a manifest after its children, tags it, and resolves tag and digest to it',
      withTarget(async (repo) => {
        const c = config('suite-image');
        const l = layer('suite-image-layer', 3000);
        const m = imageManifest(c, [l]);
        for (const x of [c, l, m]) await repo.push(x.desc, body(x.bytes));
        await repo.tag('v1', m.desc);
        const byTag = await repo.resolve('v1');
        expect(byTag).toMatchObject({ digest: m.desc.digest, size: m.desc.size, mediaType: m.desc.mediaType });
        expect((await repo.resolve(m.desc.digest)).digest).toBe(m.desc.digest);
        expect((await readAll(await repo.fetch(byTag))).equals(m.bytes)).toBe(true);
      }),
    );

    it(
      'lists referrers of a subject, filtered by artifact type',
      withTarget(async (repo) => {
        if (!repo.referrers) return;
        const c = config('suite-subject');
        const subject = imageManifest(c, []);
        const empty = blob(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
        const sig = imageManifest(empty, [], { subject: subject.desc, artifactType: 'application/vnd.example.sig' });
        const sbom = imageManifest(empty, [], { subject: subject.desc, artifactType: 'application/vnd.example.sbom' });
        for (const x of [c, subject, empty, sig, sbom]) await repo.push(x.desc, body(x.bytes));
        const all: string[] = [];
        for await (const d of repo.referrers(subject.desc)) all.push(d.digest);
        expect(all.sort()).toEqual([sig.desc.digest, sbom.desc.digest].sort());
        const sigs: Array<{ digest: string; artifactType?: string }> = [];
        for await (const d of repo.referrers(subject.desc, { artifactType: 'application/vnd.example.sig' })) sigs.push(d);
        expect(sigs).toEqual([expect.objectContaining({ digest: sig.desc.digest, artifactType: 'application/vnd.example.sig' })]);
      }),
    );

    it(
      'answers NotFoundError for content it does not hold and a tag it does not know',
      withTarget(async (repo) => {
        const l = layer('suite-missing', 10);
        await expect(repo.fetch(l.desc)).rejects.toBeInstanceOf(NotFoundError);
        await expect(repo.resolve('nope')).rejects.toBeInstanceOf(NotFoundError);
      }),
    );

    it(
      'lists tags sorted',
      withTarget(async (repo) => {
        if (!repo.tags) return;
        const c = config('suite-tags');
        const m = imageManifest(c, []);
        for (const x of [c, m]) await repo.push(x.desc, body(x.bytes));
        for (const t of ['b', 'a', 'c-1', 'C']) await repo.tag(t, m.desc);
        const tags: string[] = [];
        for await (const t of repo.tags()) tags.push(t);
        expect(tags).toEqual(['C', 'a', 'b', 'c-1']);
      }),
    );
  });
}
