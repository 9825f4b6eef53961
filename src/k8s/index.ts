// src/k8s: Kubernetes preloading (design §5, `ferry k8s`): containerd mirror
// configuration, manifest image rewriting, and preloading a node's containerd
// from a bundle. Imports transfer, bundle, store and core.
export { parseMirrorEndpoint, formatEndpoint, requireHostLike, type MirrorEndpoint } from './mirror-endpoint.js';
export { renderHostsToml, upstreamServer, mirrorHostUrl, hostsDirName, type HostsTomlInput } from './hosts-toml.js';
export { readMirrorSources, type MirrorSources } from './mirror-sources.js';
export { writeMirrorConfig, containerdSnippet, DEFAULT_CONFIG_PATH, MIRROR_CA_FILE, type MirrorConfigOptions, type MirrorConfigReport, type MirrorConfigFile } from './mirror-config.js';
export { mapImage, hasExplicitTag, type DigestPins, type ImageMapping, type MappedImage } from './image-mapping.js';
export { pinsFromBundle, pinsFromStore, type ForeignLayerMode } from './digest-pins.js';
export { imageFields, CONTAINER_FIELDS, type ImageField, type ContainerField } from './workload-images.js';
export { rewriteManifestText, type ImageChange, type RewriteWarning, type TextRewrite } from './rewrite-text.js';
export { rewriteManifests, type RewriteOptions, type RewriteOutput, type RewriteReport, type RewriteResult, type FileRewrite } from './rewrite.js';
export { preloadBundle, CRI_PINNED_LABEL, type PreloadOptions, type PreloadReport } from './preload.js';
export { planPreload, type PreloadPlan, type PreloadImage, type PreloadSelection } from './preload-plan.js';
export { listImages, runCtr, type CtrTarget } from './ctr.js';
