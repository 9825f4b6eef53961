import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BundleInput } from './bundle-source.js';
import { openBundle, type OpenBundleOptions } from './reader.js';
import type { SignatureState } from './signature-check.js';
import type { VolumeInfo } from './volume-sidecar.js';

// `ferry verify`: read every byte of a bundle (or every volume) through the
// same reader import uses, and report what was proven. The first problem
// throws one IntegrityError naming the entry or the volume.

export interface VerifyReport {
  source: string;
  id: string;
  created: string;
  signature: SignatureState;
  keyId: string | null;
  images: number;
  blobs: number;
  /** Bytes of blob content verified. */
  blobBytes: number;
  /** Blobs a delta bundle left out (not checked: the target holds them). */
  assumed: number;
  /** Bytes of tar read. */
  bytesRead: number;
  volumes?: { list: VolumeInfo[]; signature: SignatureState };
}

const discard = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

export async function verifyBundle(input: BundleInput, opts: OpenBundleOptions = {}): Promise<VerifyReport> {
  const bundle = await openBundle(input, { ...opts, checkVolumes: true });
  try {
    let blobs = 0;
    let blobBytes = 0;
    try {
      for await (const blob of bundle.blobs()) {
        await pipeline(blob.stream, discard());
        blobs += 1;
        blobBytes += blob.descriptor.size;
      }
    } catch (err) {
      throw await bundle.explain(err);
    }
    const report: VerifyReport = {
      source: bundle.source,
      id: bundle.bundleJson.id,
      created: bundle.bundleJson.created,
      signature: bundle.signature,
      keyId: bundle.keyId,
      images: bundle.bundleJson.images.length,
      blobs,
      blobBytes,
      assumed: bundle.bundleJson.assumes.length,
      bytesRead: bundle.bytesRead(),
    };
    if (bundle.volumes) report.volumes = { list: bundle.volumes.sidecar.volumes, signature: bundle.volumes.signature };
    return report;
  } finally {
    await bundle.close();
  }
}
