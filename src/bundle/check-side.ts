import type * as Verify from './verify.js';
import type * as VerifyInHand from './verify-in-hand.js';

// The checking side of the package (a full verify), loaded on its first call,
// as write-side.ts loads the writing side: the barrel would otherwise load the
// verifier, its worker pool and their helpers into every `ferry inspect`,
// which reads the head only and whose cost is mostly start-up.

export async function verifyBundle(...args: Parameters<typeof Verify.verifyBundle>): ReturnType<typeof Verify.verifyBundle> {
  return (await import('./verify.js')).verifyBundle(...args);
}

export async function verifyVolumesInHand(...args: Parameters<typeof VerifyInHand.verifyVolumesInHand>): ReturnType<typeof VerifyInHand.verifyVolumesInHand> {
  return (await import('./verify-in-hand.js')).verifyVolumesInHand(...args);
}
