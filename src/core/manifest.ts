import { parseBoundedJsonObject } from './bounded-json.js';
import type { Descriptor } from './descriptor.js';
import { parseDescriptor } from './descriptor.js';
import { ErrorCode, IntegrityError } from './errors.js';
import { MAX_MANIFEST_BYTES } from './limits.js';
import { MediaType, isImageManifest, isIndex, refuseSchema1, type MediaTypeName } from './media-types.js';

interface ManifestCommon {
  mediaType: MediaTypeName;
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}
export interface ImageIndex extends ManifestCommon {
  kind: 'index';
  manifests: Descriptor[];
}
export interface ImageManifest extends ManifestCommon {
  kind: 'manifest';
  config: Descriptor;
  layers: Descriptor[];
}
export type Manifest = ImageIndex | ImageManifest;

/** How a child hangs off its parent in the content graph (store edges use the same names). */
export type EdgeKind = 'manifest' | 'config' | 'layer' | 'subject';
export interface Edge {
  kind: EdgeKind;
  descriptor: Descriptor;
}

/**
 * A manifest's bytes as a JSON object, bounded in size and nesting depth; also
 * for code that rewrites a manifest parseManifest has already accepted.
 */
export function manifestJson(bytes: Uint8Array, subject: string): Record<string, unknown> {
  return parseBoundedJsonObject(bytes, { subject, context: 'malformed manifest', maxBytes: MAX_MANIFEST_BYTES, code: ErrorCode.manifestInvalid });
}

/**
 * Parses a manifest or index from bounded bytes. `mediaType` is what the
 * descriptor or Content-Type said; the document's own field wins when present,
 * and a document without one (allowed by OCI) is classified by its shape.
 */
export function parseManifest(bytes: Uint8Array, mediaType: MediaTypeName | undefined, subject: string): Manifest {
  const bad = (what: string) => new IntegrityError(`${subject}: malformed manifest: ${what}`, { code: ErrorCode.manifestInvalid, subject });
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new IntegrityError(`${subject}: manifest is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`, {
      code: ErrorCode.manifestTooLarge,
      subject,
    });
  }
  const m = manifestJson(bytes, subject);
  if (m.schemaVersion === 1) refuseSchema1(MediaType.dockerSchema1, subject);
  const declared = typeof m.mediaType === 'string' ? m.mediaType : mediaType;
  refuseSchema1(declared, subject);
  const kind = isIndex(declared) ? 'index' : isImageManifest(declared) ? 'manifest' : Array.isArray(m.manifests) ? 'index' : m.config ? 'manifest' : undefined;
  if (!kind) throw bad(`unknown manifest media type '${String(declared)}'`);
  if (m.schemaVersion !== 2) throw bad(`schemaVersion is ${String(m.schemaVersion)}, expected 2`);
  // A document without its own mediaType (allowed by OCI) whose descriptor said something vague gets the OCI type of its shape.
  const knownType = isIndex(declared) || isImageManifest(declared) ? declared : undefined;
  const common: ManifestCommon = { mediaType: knownType ?? (kind === 'index' ? MediaType.ociIndex : MediaType.ociManifest) };
  if (typeof m.artifactType === 'string') common.artifactType = m.artifactType;
  if (m.subject !== undefined) common.subject = parseDescriptor(m.subject, `${subject} subject`);
  if (m.annotations && typeof m.annotations === 'object') common.annotations = m.annotations as Record<string, string>;
  if (kind === 'index') {
    if (!Array.isArray(m.manifests)) throw bad('index has no manifests array');
    return { kind, ...common, manifests: m.manifests.map((d, i) => parseDescriptor(d, `${subject} manifests[${i}]`)) };
  }
  if (m.layers !== undefined && !Array.isArray(m.layers)) throw bad('layers is not an array');
  const layers = (m.layers ?? []) as unknown[];
  return {
    kind,
    ...common,
    config: parseDescriptor(m.config, `${subject} config`),
    layers: layers.map((d, i) => parseDescriptor(d, `${subject} layers[${i}]`)),
  };
}

/** Children that must exist before the manifest can be pushed, in push order. */
export function successors(manifest: Manifest): Descriptor[] {
  return manifest.kind === 'index' ? manifest.manifests : [manifest.config, ...manifest.layers];
}

/** Every edge out of a manifest, including its subject (which is not a successor). */
export function edges(manifest: Manifest): Edge[] {
  const out: Edge[] =
    manifest.kind === 'index'
      ? manifest.manifests.map((descriptor) => ({ kind: 'manifest' as const, descriptor }))
      : [{ kind: 'config', descriptor: manifest.config }, ...manifest.layers.map((descriptor) => ({ kind: 'layer' as const, descriptor }))];
  if (manifest.subject) out.push({ kind: 'subject', descriptor: manifest.subject });
  return out;
}
