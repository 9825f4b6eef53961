import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { MAX_MANIFEST_BYTES } from '../core/limits.js';
import { isImageManifest } from '../core/media-types.js';
import { parseReference } from '../core/reference.js';
import { readCapped } from '../core/read-capped.js';
import { readSmallRange, type Bundle } from '../bundle/index.js';
import { isSignatureLayer, UntrustedImagesError, type ImageRefusal, type TrustPolicy } from '../trust/index.js';
import type { ImportPlan } from './import-plan.js';
import { gatherAttachments } from './signature-evidence.js';
import { judge, TRUST_HINT, type SignedBy } from './trust-judge.js';

// `ferry import --require-signed-by`: every image is judged again from the
// bundle's own bytes — its root manifest, the signature manifests carried as
// its referrers and their signature layers — offline, before anything is
// tagged. Which bytes are needed is known from index.db before a byte of blob
// is read. A single-file bundle gives them by byte range, so the verdict comes
// before the first push; a volume set or a stream gives them during the one
// blob pass, so the verdict comes before any manifest is pushed or tag set.

export interface ImportVerdict {
  /** The bundle's name for the image. */
  source: string;
  digest: Digest;
  signedBy: SignedBy;
}

export interface TrustedImport {
  images: ImportVerdict[];
  /** When the verdict fell: before any blob was pushed, or after the blob pass and before any manifest or tag. */
  checked: 'before-push' | 'before-manifests';
}

/** The blobs the verdict reads: root manifests, signature manifests, and those manifests' signature layers. */
export function evidenceNeeded(bundle: Bundle, plan: ImportPlan): { manifests: Set<string>; layers: Set<string> } {
  const manifests = new Set<string>();
  const layers = new Set<string>();
  for (const image of plan.images) {
    manifests.add(image.root.digest);
    for (const { descriptor } of image.referrers) {
      if (!isImageManifest(descriptor.mediaType)) continue;
      manifests.add(descriptor.digest);
      for (const b of bundle.db.blobsOf(descriptor.digest)) if (b.kind === 'layer' && isSignatureLayer(b.descriptor.mediaType)) layers.add(b.descriptor.digest);
    }
  }
  return { manifests, layers };
}

/** Synchronous reads of evidence between two turns of the event loop. */
const YIELD_EVERY = 256;

/** The needed blobs by byte range (each verified as read), or undefined when the bundle cannot be read that way. */
export async function evidenceByRange(bundle: Bundle, needed: ReadonlySet<string>): Promise<Map<string, Buffer> | undefined> {
  const ranges = await bundle.locate();
  const tar = bundle.tarSpan;
  if (!ranges || !tar) return undefined;
  const out = new Map<string, Buffer>();
  const reader = tar.openSync();
  try {
    let read = 0;
    for (const range of ranges) {
      if (!needed.has(range.blob.descriptor.digest)) continue;
      out.set(range.blob.descriptor.digest, readSmallRange(reader, range, MAX_MANIFEST_BYTES));
      // Reads from a cold stick block: a progress bar still moves between batches of them.
      if (++read % YIELD_EVERY === 0) await new Promise(setImmediate);
    }
  } catch (err) {
    throw await bundle.explain(err);
  } finally {
    reader.close();
  }
  return out;
}

/** The needed blobs from one whole pass over the bundle (a dry run of a volume set). */
export async function evidenceByPass(bundle: Bundle, needed: ReadonlySet<string>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const blob of bundle.blobs()) {
    if (needed.has(blob.descriptor.digest)) out.set(blob.descriptor.digest, await readCapped(blob.stream, MAX_MANIFEST_BYTES, blob.entry));
    else blob.stream.resume();
  }
  return out;
}

function carried(evidence: ReadonlyMap<string, Buffer>): (desc: Pick<Descriptor, 'digest'>) => Promise<Buffer> {
  return async (desc) => {
    const bytes = evidence.get(desc.digest);
    if (bytes) return bytes;
    throw new IntegrityError(`${desc.digest} is not carried in this bundle (a delta bundle leaves out what the target already held)`, { code: ErrorCode.blobUnknown });
  };
}

/** Judges every planned image from the bundle's bytes; throws UntrustedImagesError naming every refused one. */
export async function judgeBundle(plan: ImportPlan, evidence: ReadonlyMap<string, Buffer>, policy: TrustPolicy): Promise<ImportVerdict[]> {
  const read = carried(evidence);
  const verdicts: ImportVerdict[] = [];
  const refusals: ImageRefusal[] = [];
  for (const image of plan.images) {
    const candidates = image.referrers.map((r) => r.descriptor);
    const judged = await judge(
      { display: image.source, name: parseReference(image.source), manifest: () => read(image.root), attachments: () => gatherAttachments(candidates, read) },
      policy,
    );
    if (judged.ok) verdicts.push({ source: image.source, digest: judged.digest, signedBy: judged.signedBy });
    else refusals.push(judged.refusal);
  }
  if (refusals.length > 0) throw new UntrustedImagesError(refusals, TRUST_HINT);
  return verdicts;
}
