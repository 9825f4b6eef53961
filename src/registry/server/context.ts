import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobIngester, BlobProvider, ContentPins, RepositoryCatalog, StoreHandle, StoreMaintenance } from '../../store/index.js';
import type { Gatekeeper, Principal } from './auth/gatekeeper.js';
import type { UploadPins } from './upload-pins.js';
import type { UploadSessions } from './upload-sessions.js';

// What every handler receives: the exchange, the parsed URL, who is asking, and
// the server's parts (passed in, never module singletons).

/** The faces of the store a registry server uses: repositories and listings, blob files, upload ingests, pins, prune and GC. */
export type ServedStore = RepositoryCatalog &
  BlobProvider &
  Pick<BlobIngester, 'ingests'> &
  Pick<ContentPins, 'pin' | 'unpin'> &
  Pick<StoreMaintenance, 'pruneUntagged' | 'gc'> &
  StoreHandle;

export interface ServerDeps {
  readonly store: ServedStore;
  readonly gatekeeper: Gatekeeper;
  readonly sessions: UploadSessions;
  readonly pins: UploadPins;
  /** Pushes and deletes are refused; nothing is written to the store (not even pins). */
  readonly readOnly: boolean;
  /** How long a client may read nothing of an answer before it is cut (client-idle.ts). */
  readonly idleTimeoutMs: number;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly deps: ServerDeps;
  readonly principal: Principal;
}
