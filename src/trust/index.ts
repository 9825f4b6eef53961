// src/trust: is an image signed by a key we trust? cosign's `.sig` layout and
// key-based Sigstore bundles, checked offline with Node's crypto. Pure
// verification on top of core: callers (src/transfer) bring the bytes.
export { attachmentsOf, isSignatureLayer, isSigstoreBundle } from './attachments.js';
export { containersPolicy } from './containers-policy.js';
export type { ContainersPolicyFiles, ImportedSignature } from './containers-policy.js';
export { IDENTITY_RULES, identityMatches, parseSignedIdentity } from './identity-rule.js';
export type { IdentityRule } from './identity-rule.js';
export { checkRekorSet, canonicalJson } from './rekor-set.js';
export { refusalLine, UntrustedImagesError } from './refusal.js';
export type { ImageRefusal } from './refusal.js';
export { checkSigstoreBundle, COSIGN_SIGN_PREDICATE, dssePae, dsseSigner } from './sigstore-bundle.js';
export { parseSimpleSigning, SIMPLE_SIGNING_TYPE } from './simple-signing.js';
export { repositoryPattern, ruleFor } from './trust-policy.js';
export type { PolicyEntry, TrustPolicy } from './trust-policy.js';
export { decodeBase64, parseTrustedKey, readTrustedKeyFile, signerOf, signs } from './trusted-key.js';
export type { TrustedKey } from './trusted-key.js';
export { reject, REFUSAL_REASONS } from './verdict.js';
export type { Acceptance, Attachment, RefusalReason, Rejection, SignatureFormat, Verdict } from './verdict.js';
export { COSIGN_CERTIFICATE_ANNOTATION, COSIGN_SET_ANNOTATION, COSIGN_SIGNATURE_ANNOTATION, verifyImage } from './verify-image.js';
export type { ImageToCheck, ImageVerdict, TrustRule } from './verify-image.js';
