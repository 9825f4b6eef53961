import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { digestOf, type Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';

// Signs images the way cosign does, with a throwaway P-256 key, so tests can
// push signed images into a real registry (the containers/image fixtures pin
// the format; their images lack blobs and cannot be pushed). Nothing here is
// ferry's code: it writes exactly the bytes test/fixtures/cosign/REGISTRY-LAYOUT.md
// describes.

export interface CosignKey {
  privateKey: KeyObject;
  /** SPKI PEM: what `cosign.pub` holds. */
  publicPem: string;
}

export function cosignKey(): CosignKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** cosign's simple-signing payload, field order and `"optional":null` as cosign writes it. */
export function simpleSigningPayload(digest: string, dockerReference: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
      optional: null,
    }),
  );
}

export interface Blob {
  mediaType: string;
  digest: Digest;
  size: number;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

export function blob(mediaType: string, bytes: Buffer, annotations?: Record<string, string>): Blob {
  return { mediaType, digest: digestOf(bytes), size: bytes.length, bytes, ...(annotations ? { annotations } : {}) };
}

const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size, ...(b.annotations ? { annotations: b.annotations } : {}) });

/** A `.sig` layer: the payload as the blob, the base64 ECDSA signature as its annotation. */
export function signatureLayer(payload: Buffer, key: CosignKey, extra: Record<string, string> = {}): Blob {
  const signature = sign('sha256', payload, key.privateKey).toString('base64');
  return blob(MediaType.cosignSimpleSigning, payload, { 'dev.cosignproject.cosign/signature': signature, ...extra });
}

/** The `.sig` manifest (tag `sha256-<hex>.sig`) over those layers, config as containers/image writes it. */
export function signatureManifest(layers: Blob[]): { manifest: Blob; blobs: Blob[] } {
  const config = blob(MediaType.ociConfig, Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })));
  const doc = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: descriptor(config), layers: layers.map(descriptor) };
  return { manifest: blob(MediaType.ociManifest, Buffer.from(JSON.stringify(doc))), blobs: [config, ...layers] };
}

/** A small single-platform OCI image: one config, one layer whose bytes make it unique. */
export function testImage(seed: string): { manifest: Blob; blobs: Blob[] } {
  const layer = blob(MediaType.ociLayer, Buffer.from(`layer of ${seed}\n`.repeat(64)));
  const config = blob(MediaType.ociConfig, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} })));
  const doc = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: descriptor(config), layers: [descriptor(layer)] };
  return { manifest: blob(MediaType.ociManifest, Buffer.from(JSON.stringify(doc))), blobs: [config, layer] };
}

/** cosign 3's default: a Sigstore bundle v0.3 holding a DSSE in-toto statement about `digest`. */
export function dsseBundle(digest: string, key: CosignKey, options: { name?: string; predicateType?: string } = {}): Buffer {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ ...(options.name ? { name: options.name } : {}), digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType: options.predicateType ?? 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  };
  const payload = Buffer.from(JSON.stringify(statement));
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'test' } },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: type, signatures: [{ sig: sign('sha256', pae, key.privateKey).toString('base64') }] },
  };
  return Buffer.from(JSON.stringify(bundle));
}

/** The OCI 1.1 referrer cosign 3 pushes for a bundle (WriteAttestationNewBundleFormat). */
export function bundleReferrer(bundleJson: Buffer, subject: Blob): { manifest: Blob; blobs: Blob[] } {
  const type = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const empty = blob(MediaType.ociEmpty, Buffer.from('{}'));
  const layer = blob(type, bundleJson);
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: type,
    config: descriptor(empty),
    layers: [descriptor(layer)],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
  };
  return { manifest: blob(MediaType.ociManifest, Buffer.from(JSON.stringify(doc))), blobs: [empty, layer] };
}
