import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestOf, type Digest } from '../../src/core/digest.js';
import { parseReference } from '../../src/core/reference.js';
import { parseTrustedKey, verifyImage, type Attachment, type IdentityRule, type ImageVerdict, type TrustedKey } from '../../src/trust/index.js';

// containers/image's signature fixtures (test/fixtures/cosign/SOURCES.md) as
// ferry's verifier sees them: a `dir:` image is manifest.json plus one
// `signature-N` file per `.sig` layer, each "\0sigstore-json\n" + JSON
// {mimeType, payload (base64), annotations} — exactly the layer's media type,
// bytes and annotations (REGISTRY-LAYOUT.md).

export const FIXTURES = fileURLToPath(new URL('../fixtures/cosign/', import.meta.url));

const MAGIC = Buffer.from('\0sigstore-json\n');

export function key(file: string): TrustedKey {
  return parseTrustedKey(readFileSync(join(FIXTURES, file), 'utf8'), file);
}

/** A `signature-N` file as the `.sig` layer it was read from. */
export function signatureFile(path: string): Attachment {
  const bytes = readFileSync(join(FIXTURES, path));
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${path} is not a sigstore signature file`);
  const doc = JSON.parse(bytes.subarray(MAGIC.length).toString('utf8')) as { mimeType: string; payload: string; annotations?: Record<string, string> };
  const payload = Buffer.from(doc.payload, 'base64');
  // The carrier stands in for the `.sig` manifest's digest (a dir: image has none).
  const carrier: Digest = digestOf(bytes);
  if (doc.mimeType === 'application/vnd.dev.cosign.simplesigning.v1+json') return { kind: 'simple-signing', payload, annotations: doc.annotations ?? {}, carrier };
  return { kind: 'other', mediaType: doc.mimeType, carrier };
}

export function withAnnotations(a: Attachment, change: (annotations: Record<string, string>) => void): Attachment {
  if (a.kind !== 'simple-signing') throw new Error('not a simple-signing attachment');
  const annotations = { ...a.annotations };
  change(annotations);
  return { ...a, annotations };
}

export interface FixtureCheck {
  dir: string;
  /** The name the image is checked under (upstream: dirImageMock's intended reference). */
  ref: string;
  keys: string[];
  rekorKeys?: string[];
  identity?: IdentityRule;
  /** Signature files instead of the dir's signature-N. */
  signatures?: Attachment[];
}

export async function checkFixture(c: FixtureCheck): Promise<ImageVerdict> {
  const dir = join(FIXTURES, c.dir);
  const files = [1, 2].map((n) => join(c.dir, `signature-${n}`)).filter((f) => existsSync(join(FIXTURES, f)));
  const signatures = c.signatures ?? files.map(signatureFile);
  return verifyImage(
    { name: parseReference(c.ref), manifest: () => readFile(join(dir, 'manifest.json')), attachments: signatures },
    { keys: c.keys.map(key), identity: c.identity ?? 'matchRepository', rekorKeys: (c.rekorKeys ?? []).map(key) },
  );
}
