import type { BundleRelease } from './format.js';
import type { BundleInput } from './bundle-source.js';
import { storedSummaries, walkedSummaries } from './image-summaries.js';
import type { DbReferrer } from './manifest-db.js';
import { openBundle, type OpenBundleOptions } from './reader.js';
import type { SignatureState } from './signature-check.js';

// `ferry inspect`: what a bundle holds, from its head alone — a 100 GB bundle
// is answered after reading its first few hundred KiB. The head is still
// verified (signature if a key is given, head files against bundle.json);
// blob bytes are not read, so this proves nothing about them (ferry verify does).

export interface InspectedImage {
  name: string;
  tag?: string;
  digest: string;
  mediaType: string;
  platforms: string[];
  /** Blobs under this image (shared ones counted for each image). */
  blobs: number;
  bytes: number;
  /** Of which a delta bundle leaves out. */
  assumedBytes: number;
  referrers: { digest: string; artifactType?: string }[];
}

export interface InspectReport {
  source: string;
  format: string;
  id: string;
  created: string;
  tool: string;
  signature: SignatureState;
  keyId: string | null;
  images: InspectedImage[];
  /** Carried in the bundle, each blob once. */
  blobs: { count: number; bytes: number };
  /** Left out of a delta bundle. */
  assumed: { count: number; bytes: number };
  volumes?: { name: string; size: number }[];
  /** The ferry releases carried (`ferry/tool/…`, as bundle.json lists them; their bytes are not read here). */
  releases: BundleRelease[];
  /** Bytes of tar up to the end of the head, and bytes actually read (with read-ahead). */
  headBytes: number;
  bytesRead: number;
}

export async function inspectBundle(input: BundleInput, opts: Omit<OpenBundleOptions, 'checkVolumes'> = {}): Promise<InspectReport> {
  const bundle = await openBundle(input, { ...opts, checkVolumes: false });
  try {
    const { db, bundleJson } = bundle;
    const summaries = storedSummaries(bundleJson.images) ?? walkedSummaries(db);
    const referrers = new Map<string, DbReferrer[]>();
    for (const r of db.referrers()) referrers.set(r.subject, [...(referrers.get(r.subject) ?? []), r]);
    const images = db.images().map((i): InspectedImage => {
      // The head check proved index.db and bundle.json list the same images (name, root, size).
      const s = summaries.get(i.name);
      return {
        name: i.name,
        ...(i.tag !== undefined ? { tag: i.tag } : {}),
        digest: i.digest,
        mediaType: i.mediaType,
        platforms: s?.platforms ?? [],
        blobs: s?.totals.blobs ?? 0,
        bytes: s?.totals.bytes ?? 0,
        assumedBytes: s?.totals.assumedBytes ?? 0,
        referrers: (referrers.get(i.digest) ?? []).map((r) => ({ digest: r.digest, ...(r.artifactType ? { artifactType: r.artifactType } : {}) })),
      };
    });
    const report: InspectReport = {
      source: bundle.source,
      format: bundleJson.format,
      id: bundleJson.id,
      created: bundleJson.created,
      tool: `${bundleJson.tool.name} ${bundleJson.tool.version}`,
      signature: bundle.signature,
      keyId: bundle.keyId,
      images,
      // As bundle.json lists them: the head check proved index.db lists the same (carried in order, assumed as a set).
      blobs: { count: bundleJson.blobs.count, bytes: bundleJson.blobs.bytes },
      assumed: { count: bundleJson.assumes.length, bytes: bundleJson.assumes.reduce((n, a) => n + a.size, 0) },
      releases: bundleJson.releases ?? [],
      headBytes: bundle.headBytes,
      bytesRead: bundle.bytesRead(),
    };
    if (bundle.volumes) report.volumes = bundle.volumes.sidecar.volumes.map((v) => ({ name: v.name, size: v.size }));
    return report;
  } finally {
    await bundle.close();
  }
}
