import { inject } from 'vitest';
import type { RigImageSet } from './image-set.js';

// What global setup hands every test file (vitest provide/inject, JSON only).
// The source registry is SHARED by all files running in parallel: read from it,
// never push to or delete from it — start your own registry for writes.

export interface AvailableRig {
  readonly available: true;
  /** Plain-http docker-registry seeded with every test image; foreign URLs allowed. */
  readonly source: { readonly url: string; readonly host: string; readonly scheme: 'http' };
  /** Serves the Windows image's foreign layer; GET /_stats returns its request counters. */
  readonly foreign: { readonly url: string };
  readonly images: RigImageSet;
  /**
   * An OCI image layout holding every blob of every test image (Docker-typed and the
   * foreign layer included); index.json has one entry per root, tagged ones named by
   * `org.opencontainers.image.ref.name` = image.reference.
   */
  readonly layoutDir: string;
}

export interface UnavailableRig {
  readonly available: false;
  /** e.g. "docker-registry not found — apt-get install -y docker-registry" */
  readonly reason: string;
}

export type RigContext = AvailableRig | UnavailableRig;

declare module 'vitest' {
  export interface ProvidedContext {
    rig: RigContext;
  }
}

/** The provided rig context; use `describe.skipIf(!rigContext().available)` for suites needing it. */
export function rigContext(): RigContext {
  return inject('rig');
}

/** The seeded rig, inside a suite that was not skipped. */
export function seededRig(): AvailableRig {
  const rig = inject('rig');
  if (!rig.available) throw new Error(`test rig unavailable: ${rig.reason}`);
  return rig;
}
