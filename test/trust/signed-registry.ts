import { writeFile } from 'node:fs/promises';
import { MediaType } from '../../src/core/media-types.js';
import { blob, bundleReferrer, cosignKey, dsseBundle, signatureLayer, signatureManifest, simpleSigningPayload, testImage, type Blob, type CosignKey } from '../helpers/cosign-signer.js';
import type { Registry } from '../rig/registry.js';
import { RegistryHttp } from '../rig/registry-http.js';

// A real docker-registry holding freshly signed images, one per case the
// signature policy must tell apart. Signed here with throwaway P-256 keys in
// exactly the `.sig` layout of the containers/image fixtures, and once as a
// cosign 3 Sigstore bundle referrer (listed in the referrers tag schema,
// since distribution 2.8 has no referrers API).

export const CASES = ['signed', 'unsigned', 'wrongkey', 'otherdigest', 'identity', 'bundled', 'tagged'] as const;
export type Case = (typeof CASES)[number];

export interface SignedSource {
  publisher: CosignKey;
  stranger: CosignKey;
  publisherPub: string;
  strangerPub: string;
  /** `HOST/acme/<case>:1.0` */
  ref(c: Case): string;
  digest(c: Case): string;
}

const hex = (d: string) => d.slice('sha256:'.length);

export async function push(http: RegistryHttp, repo: string, reference: string, image: { manifest: Blob; blobs: Blob[] }): Promise<void> {
  for (const b of image.blobs) await http.pushBlob(repo, b.digest, b.bytes);
  await http.pushManifest(repo, reference, image.manifest.mediaType, image.manifest.bytes);
}

/** Pushes `.sig` for `digest` in `repo`, signed by `key` over a payload naming `signedDigest` as `identity`. */
export async function pushSig(http: RegistryHttp, repo: string, digest: string, key: CosignKey, signedDigest: string, identity: string): Promise<void> {
  await push(http, repo, `sha256-${hex(digest)}.sig`, signatureManifest([signatureLayer(simpleSigningPayload(signedDigest, identity), key)]));
}

export async function seedSignedImages(registry: Registry, dir: string, seed = 'trust'): Promise<SignedSource> {
  const publisher = cosignKey();
  const stranger = cosignKey();
  const publisherPub = `${dir}/publisher.pub`;
  const strangerPub = `${dir}/stranger.pub`;
  await writeFile(publisherPub, publisher.publicPem);
  await writeFile(strangerPub, stranger.publicPem);
  const http = new RegistryHttp(registry);
  const digests = new Map<Case, string>();
  try {
    for (const c of CASES) {
      const image = testImage(`${seed}-${c}`);
      const repo = `acme/${c}`;
      digests.set(c, image.manifest.digest);
      await push(http, repo, '1.0', image);
      const identity = `${registry.host}/${repo}`;
      if (c === 'signed') await pushSig(http, repo, image.manifest.digest, publisher, image.manifest.digest, identity);
      if (c === 'wrongkey') await pushSig(http, repo, image.manifest.digest, stranger, image.manifest.digest, identity);
      if (c === 'otherdigest') await pushSig(http, repo, image.manifest.digest, publisher, testImage('some other image').manifest.digest, identity);
      if (c === 'tagged') await pushSig(http, repo, image.manifest.digest, publisher, image.manifest.digest, `${identity}:1.0`);
      if (c === 'identity') await pushSig(http, repo, image.manifest.digest, publisher, image.manifest.digest, `${registry.host}/evil/impostor`);
      if (c === 'bundled') {
        const referrer = bundleReferrer(dsseBundle(image.manifest.digest, publisher), image.manifest);
        await push(http, repo, referrer.manifest.digest, referrer);
        const entry = { mediaType: referrer.manifest.mediaType, digest: referrer.manifest.digest, size: referrer.manifest.size, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' };
        const index = blob(MediaType.ociIndex, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [entry] })));
        await http.pushManifest(repo, `sha256-${hex(image.manifest.digest)}`, index.mediaType, index.bytes);
      }
    }
  } finally {
    await http.close();
  }
  return {
    publisher,
    stranger,
    publisherPub,
    strangerPub,
    ref: (c) => `${registry.host}/acme/${c}:1.0`,
    digest: (c) => digests.get(c) ?? '',
  };
}
