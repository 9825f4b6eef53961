import { describe, expect, it } from 'vitest';
import { EntryPolicy, blobEntryName, digestOfBlobEntry, formatSha256Sums, parseBundleJson, parseSha256Sums, serializeBundleJson, type BundleJson } from '../../src/bundle/index.js';
import { digestOf } from '../../src/core/digest.js';
import { ErrorCode, IntegrityError } from '../../src/core/errors.js';

// The pure parts of the format: the entry allow-list and its ordering rules,
// SHA256SUMS, and bundle.json validation.

const d1 = digestOf('one');
const d2 = digestOf('two');
const HEAD = ['oci-layout', 'ferry/bundle.json', 'ferry/bundle.json.sig', 'index.json', 'ferry/index.db', 'ferry/SHA256SUMS'];

function refusal(fn: () => unknown): IntegrityError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).code).toBe(ErrorCode.bundleInvalid);
    return err as IntegrityError;
  }
  throw new Error('expected a refusal');
}

describe('EntryPolicy', () => {
  it('accepts the head in order (signature optional), then blobs', () => {
    for (const head of [HEAD, HEAD.filter((n) => !n.endsWith('.sig'))]) {
      const policy = new EntryPolicy();
      for (const name of head) expect(policy.check({ name, type: 'file' })).toEqual({ kind: 'head', name });
      expect(policy.headComplete).toBe(true);
      expect(policy.check({ name: blobEntryName(d1), type: 'file' })).toEqual({ kind: 'blob', name: blobEntryName(d1), digest: d1 });
    }
  });

  it('refuses a missing required head entry, naming what was expected', () => {
    const policy = new EntryPolicy();
    policy.check({ name: 'oci-layout', type: 'file' });
    const err = refusal(() => policy.check({ name: 'index.json', type: 'file' }));
    expect(err.message).toBe("bundle entry 'index.json' is out of order: expected 'ferry/bundle.json' first");
  });

  it('refuses a signature anywhere but right after bundle.json', () => {
    const policy = new EntryPolicy();
    for (const name of ['oci-layout', 'ferry/bundle.json', 'index.json']) policy.check({ name, type: 'file' });
    expect(refusal(() => policy.check({ name: 'ferry/bundle.json.sig', type: 'file' })).message).toContain('out of order');
  });

  it('refuses names that are not exactly allowed', () => {
    const bad = [
      './oci-layout',
      'blobs/sha256/' + 'A'.repeat(64),
      'blobs/sha256/' + 'a'.repeat(63),
      'blobs/sha512/' + 'a'.repeat(128),
      'blobs//sha256/' + 'a'.repeat(64),
      'ferry\\bundle.json',
      'oci-layout\0',
      '',
    ];
    for (const name of bad) refusal(() => new EntryPolicy().check({ name, type: 'file' }));
  });

  it('quotes control characters in a hostile name so the message stays on one line', () => {
    const err = refusal(() => new EntryPolicy().check({ name: 'evil\nname\u001b[31m', type: 'file' }));
    expect(err.message).not.toContain('\n');
    expect(err.message).toContain('evil\\nname\\u001b[31m');
  });

  it('refuses unknown tar types (e.g. GNU sparse, which tar-stream reports as null)', () => {
    expect(refusal(() => new EntryPolicy().check({ name: 'oci-layout', type: null })).message).toContain("unsupported tar type 'unknown'");
  });
});

describe('SHA256SUMS', () => {
  it('round-trips in the given order, in the format sha256sum -c reads', () => {
    const text = formatSha256Sums([d2, d1]);
    expect(text.toString()).toBe(`${d2.slice(7)}  blobs/sha256/${d2.slice(7)}\n${d1.slice(7)}  blobs/sha256/${d1.slice(7)}\n`);
    expect(parseSha256Sums(text)).toEqual([d2, d1]);
    expect(parseSha256Sums(Buffer.alloc(0))).toEqual([]);
  });

  it('refuses a line whose digest is not its name, a repeated line, and malformed lines', () => {
    const h1 = d1.slice(7);
    const h2 = d2.slice(7);
    expect(refusal(() => parseSha256Sums(Buffer.from(`${h1}  blobs/sha256/${h2}\n`))).message).toContain('line 1');
    expect(refusal(() => parseSha256Sums(Buffer.from(`${h1}  blobs/sha256/${h1}\n${h1}  blobs/sha256/${h1}\n`))).message).toContain('twice');
    refusal(() => parseSha256Sums(Buffer.from(`${h1} blobs/sha256/${h1}\n`)));
    refusal(() => parseSha256Sums(Buffer.from(`${h1}  blobs/sha256/${h1}`)));
    refusal(() => parseSha256Sums(Buffer.from(`${h1}  ../../${h1}\n`)));
    // Counted from the top, after good lines too (the parse is one pass, not a list of lines).
    expect(refusal(() => parseSha256Sums(Buffer.from(`${h2}  blobs/sha256/${h2}\n${h1}  blobs/sha256/${h2}\n`))).message).toContain(`line 2 lists blobs/sha256/${h2.slice(0, 12)}… with another digest`);
    expect(refusal(() => parseSha256Sums(Buffer.from(`${h2}  blobs/sha256/${h2}\n${h1}  ferry/tool/ferry-1.0.0-linux-x64.tar.gz\n`))).message).toContain('line 2 is not');
  });

  it('maps blob entry names to digests and back', () => {
    expect(digestOfBlobEntry(blobEntryName(d1))).toBe(d1);
    expect(digestOfBlobEntry('blobs/sha256/xyz')).toBeUndefined();
  });
});

describe('bundle.json', () => {
  const doc: BundleJson = {
    format: 'ferry.bundle.v1',
    id: '0123456789abcdef0123456789abcdef',
    created: '2024-01-01T00:00:00Z',
    tool: { name: 'ferry', version: '0.1.0' },
    signer: { algorithm: 'ed25519', keyId: 'sha256:0123456789abcdef' },
    entries: {
      'index.json': { digest: d1, size: 10 },
      'ferry/index.db': { digest: d2, size: 20 },
      'ferry/SHA256SUMS': { digest: d1, size: 30 },
    },
    blobs: { count: 2, bytes: 100 },
    images: [{ name: 'r.example/a:1', digest: d2, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 5, platforms: ['linux/amd64'] }],
    assumes: [{ digest: d1, size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
  };

  it('round-trips through serialize and parse', () => {
    expect(parseBundleJson(serializeBundleJson(doc))).toEqual(doc);
  });

  it('refuses another format, a bad digest, and a missing field, naming ferry/bundle.json', () => {
    const variants: unknown[] = [
      { ...doc, format: 'ferry.bundle.v2' },
      { ...doc, entries: { ...doc.entries, 'index.json': { digest: 'sha256:nothex', size: 1 } } },
      { ...doc, blobs: { count: -1, bytes: 0 } },
      { ...doc, signer: { algorithm: 'rsa', keyId: 'x' } },
      { ...doc, images: [{ name: 'x' }] },
    ];
    for (const v of variants) {
      const err = refusal(() => parseBundleJson(Buffer.from(JSON.stringify(v))));
      expect(err.message.startsWith('ferry/bundle.json: ')).toBe(true);
    }
  });

  it('reads an image’s totals when given (older bundles have none), and refuses them malformed', () => {
    const image = doc.images[0] as BundleJson['images'][number];
    const totals = { blobs: 3, bytes: 100, assumedBytes: 40 };
    expect(parseBundleJson(serializeBundleJson({ ...doc, images: [{ ...image, totals }] })).images[0]?.totals).toEqual(totals);
    for (const bad of [{ ...totals, bytes: -1 }, { ...totals, assumedBytes: 101 }, { blobs: 3, bytes: 100 }, [3, 100, 0]]) {
      const err = refusal(() => parseBundleJson(Buffer.from(JSON.stringify({ ...doc, images: [{ ...image, totals: bad }] }))));
      expect(err.message).toBe('ferry/bundle.json: images[0].totals is malformed');
    }
  });
});
