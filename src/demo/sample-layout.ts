import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentSource, FetchOptions } from '../core/content.js';
import { ANNOTATION_REF_NAME, type Descriptor } from '../core/descriptor.js';
import { digestHex, digestOf } from '../core/digest.js';
import { ErrorCode, NotFoundError } from '../core/errors.js';
import { createDigester } from '../core/hashing.js';
import { MediaType, type MediaTypeName } from '../core/media-types.js';

// The sample images on disk as a plain OCI image layout (oci-layout,
// index.json, blobs/sha256/<hex>), and a ContentSource over it so ferry's own
// copyGraph can push them. Blobs are hashed while written to a temp file and
// renamed into place, like everywhere else in ferry; nothing is held whole.

let counter = 0;

export class SampleLayout {
  readonly dir: string;
  private readonly tags = new Map<string, Descriptor>();
  private readonly sizes = new Map<string, number>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(dir: string): Promise<SampleLayout> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    return new SampleLayout(dir);
  }

  blobPath(desc: Pick<Descriptor, 'digest'>): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(desc.digest));
  }

  /** Distinct blobs written so far, and their bytes. */
  stats(): { blobs: number; bytes: number } {
    return { blobs: this.sizes.size, bytes: [...this.sizes.values()].reduce((a, b) => a + b, 0) };
  }

  /** Stores small metadata (a config or manifest) already in memory. */
  async putBytes(mediaType: MediaTypeName, bytes: Buffer): Promise<Descriptor> {
    const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length };
    await writeFile(this.blobPath(desc), bytes);
    this.sizes.set(desc.digest, desc.size);
    return desc;
  }

  /** Stores `JSON.stringify(doc)`: object literals keep their key order, so the bytes are stable. */
  putJson(mediaType: MediaTypeName, doc: unknown): Promise<Descriptor> {
    return this.putBytes(mediaType, Buffer.from(JSON.stringify(doc)));
  }

  /** Streams `source` through `through` into a new blob, hashing on the way; returns its descriptor. */
  async putStream(mediaType: MediaTypeName, source: Readable, through: readonly Transform[] = []): Promise<Descriptor> {
    const temp = join(this.dir, `.ingest-${process.pid}-${++counter}`);
    const digester = createDigester();
    try {
      await pipeline([source, ...through, digester, createWriteStream(temp)]);
      const desc: Descriptor = { mediaType, digest: digester.digest(), size: digester.bytes };
      await rename(temp, this.blobPath(desc));
      this.sizes.set(desc.digest, desc.size);
      return desc;
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** Names `root` as `repository:tag` (index.json carries the name, as skopeo and containerd read it). */
  async tag(repository: string, tag: string, root: Descriptor): Promise<void> {
    this.tags.set(`${repository}:${tag}`, root);
    const manifests = [...this.tags.entries()].map(([name, d]) => ({
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      annotations: { [ANNOTATION_REF_NAME]: name },
    }));
    await writeFile(join(this.dir, 'index.json'), `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })}\n`);
  }

  /** One repository of the layout as a ContentSource (what copyGraph reads from). */
  source(repository: string): ContentSource {
    return {
      resolve: async (reference) => {
        const found = this.tags.get(`${repository}:${reference}`);
        if (!found) throw new NotFoundError(`sample image ${repository}:${reference} not found`, { code: ErrorCode.manifestUnknown });
        return found;
      },
      fetch: async (desc: Descriptor, options: FetchOptions = {}) => {
        const stream = createReadStream(this.blobPath(desc), { start: options.offset ?? 0 });
        // Surface a missing file as a ferry error rather than a raw ENOENT later in the pipeline.
        await new Promise<void>((resolve, reject) => {
          stream.once('open', () => resolve());
          stream.once('error', (err) => reject(new NotFoundError(`sample blob ${desc.digest} not found`, { code: ErrorCode.blobUnknown, cause: err })));
        });
        return stream;
      },
    };
  }
}
