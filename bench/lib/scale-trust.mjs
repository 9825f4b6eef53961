// The scale bench's signed variant: what `--require-signed-by` costs per image
// as N grows. A copy of the N-image set gets a cosign `.sig` signature per
// image (simple signing, a throwaway P-256 key; pushed untimed, since the
// identity it signs names the registry's host and port). Then, on that copy,
// ferry's export with and without the policy, and `import --dry-run` of the
// bundle with and without it (the judging an import does before its first
// push, without a registry's ingest in the figure). No peer: skopeo sync
// checks no signatures.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { ferry, workPath } from './context.mjs';
import { pushBytes, putManifest } from './push.mjs';
import { startRegistry } from './registry.mjs';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

const digestOf = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const descriptor = (mediaType, bytes, annotations) => ({ mediaType, digest: digestOf(bytes), size: bytes.length, ...(annotations ? { annotations } : {}) });

/** Pushes `sha256-<hex>.sig` for one image, as cosign (containers/image's layout) writes it. */
async function pushSignature(registry, image, privateKey) {
  const payload = Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': `${registry.host}/${image.repo}` }, image: { 'docker-manifest-digest': image.digest }, type: 'cosign container image signature' },
    optional: null,
  }));
  const layer = descriptor(SIMPLE_SIGNING, payload, { 'dev.cosignproject.cosign/signature': sign('sha256', payload, privateKey).toString('base64') });
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  await pushBytes(registry.url, image.repo, payload);
  await pushBytes(registry.url, image.repo, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor('application/vnd.oci.image.config.v1+json', config), layers: [layer] }));
  await putManifest(registry.url, image.repo, `sha256-${image.digest.slice(7)}.sig`, OCI_MANIFEST, manifest);
}

/** Per-image ms of export and `import --dry-run` of the signed copy, each plain and with --require-signed-by. */
export async function measureTrust(ctx, set) {
  const n = set.images.length;
  const storage = workPath(ctx, 'signed-registry');
  await cp(set.storageDir, storage, { recursive: true });
  const source = await startRegistry({ storageDir: storage, workDir: ctx.work });
  const target = await startRegistry({ workDir: ctx.work });
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = workPath(ctx, 'cosign.pub');
    await writeFile(pub, publicKey.export({ type: 'spki', format: 'pem' }));
    const limit = pLimit(8);
    await Promise.all(set.images.map((image) => limit(() => pushSignature(source, image, privateKey))));
    const spec = workPath(ctx, 'signed.yaml');
    await writeFile(spec, JSON.stringify({ apiVersion: 'ferry/v1', kind: 'Bundle', metadata: { name: 'signed' }, images: set.images.map((i) => ({ ref: `${source.host}/${i.ref}` })) }));
    const policy = ['--require-signed-by', pub];
    // Each from an empty store of its own (workPath names a new path at each call).
    const exported = async (out, extra) => {
      const r = await ferry(ctx, ['export', '-f', spec, '-o', out, '--plain-http', '--store', workPath(ctx, 'signed-store'), ...extra]);
      return r.wallMs / n;
    };
    const plainExportMs = await exported(workPath(ctx, 'signed-plain.tar'), []);
    const bundle = workPath(ctx, 'signed-trust.tar');
    const trustExportMs = await exported(bundle, policy);
    const dryRun = async (extra) => (await ferry(ctx, ['import', bundle, '--to', target.host, '--plain-http', '--dry-run', ...extra])).wallMs / n;
    const plainDryMs = await dryRun([]);
    const trustDryMs = await dryRun(policy);
    return { plainExportMs, trustExportMs, plainDryMs, trustDryMs };
  } finally {
    await Promise.all([source.stop(), target.stop()]);
  }
}
