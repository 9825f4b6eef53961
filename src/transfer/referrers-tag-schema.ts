import { Readable } from 'node:stream';
import type { Repository } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { digestHex, digestOf } from '../core/digest.js';
import { isFerryError, ExitCode } from '../core/errors.js';
import { parseManifest } from '../core/manifest.js';
import { MediaType } from '../core/media-types.js';
import { readManifestBytes } from './read-manifest.js';

// OCI 1.1 referrers on a registry without the referrers API (distribution 2.8,
// older ACR/Harbor): the spec's fallback is an image index tagged
// `sha256-<subject hex>` listing the referrers. After pushing a referrer, make
// sure a reader can find it one way or the other.

/** Listed by the referrers API or the tag schema; cosign's tags name no OCI referrer, and are not asked for. */
async function listed(repo: Repository, subject: Descriptor, referrer: Descriptor): Promise<boolean> {
  if (!repo.referrers) return false;
  for await (const d of repo.referrers(subject, { cosignTags: false })) if (d.digest === referrer.digest) return true;
  return false;
}

async function currentIndex(repo: Repository, tag: string): Promise<Descriptor[]> {
  try {
    const desc = await repo.resolve(tag);
    const bytes = await readManifestBytes(repo, desc);
    const index = parseManifest(bytes, desc.mediaType, tag);
    return index.kind === 'index' ? index.manifests : [];
  } catch (err) {
    if (isFerryError(err) && err.exitCode === ExitCode.notFound) return [];
    throw err;
  }
}

/** Adds `referrer` to the subject's tag-schema index unless the registry already lists it. */
export async function ensureReferrerListed(repo: Repository, subject: Descriptor, referrer: Descriptor): Promise<void> {
  if (await listed(repo, subject, referrer)) return;
  const tag = `sha256-${digestHex(subject.digest)}`;
  const manifests = (await currentIndex(repo, tag)).filter((d) => d.digest !== referrer.digest);
  const entry: Descriptor = { mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.size };
  if (referrer.artifactType) entry.artifactType = referrer.artifactType;
  if (referrer.annotations) entry.annotations = referrer.annotations;
  manifests.push(entry);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  const desc: Descriptor = { mediaType: MediaType.ociIndex, digest: digestOf(bytes), size: bytes.length };
  await repo.push(desc, Readable.from([bytes]));
  await repo.tag(tag, desc);
}
