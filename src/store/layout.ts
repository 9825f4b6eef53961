import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { digestHex, type Digest } from '../core/index.js';

/*
 * Where everything of a store lives, in one place (distribution's paths.go idea):
 *
 *   <root>/
 *     VERSION                   store format version; a store of another version is refused
 *     index.db (+ -wal, -shm)   SQLite index: blobs, manifests, edges, repositories, links, tags, ...
 *     blobs/sha256/<hex>        committed blobs, manifests included; mode 0444; only complete, verified bytes
 *     ingest/<key>.partial      bytes of an in-flight write, resumable; key = sha256(ref), so names have a fixed length
 *     ingest/<key>.json         its sidecar: ref, expected digest/size, startedAt
 *     trash/<hex>.<tag>         blobs a GC moved out under the index lock; unlinked after the lock is released
 */

/** The directory of a store when none is given: $FERRY_STORE, else $XDG_DATA_HOME/ferry, else ~/.local/share/ferry. */
export function defaultStoreDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.FERRY_STORE) return env.FERRY_STORE;
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'ferry');
  return join(env.HOME || homedir(), '.local', 'share', 'ferry');
}

export interface IngestPaths {
  /** Fixed-length file stem derived from the ref. */
  readonly key: string;
  readonly partial: string;
  readonly sidecar: string;
}

export class StoreLayout {
  readonly root: string;
  readonly versionFile: string;
  readonly indexDb: string;
  readonly blobsDir: string;
  readonly ingestDir: string;
  readonly trashDir: string;

  constructor(root: string) {
    this.root = root;
    this.versionFile = join(root, 'VERSION');
    this.indexDb = join(root, 'index.db');
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
    this.trashDir = join(root, 'trash');
  }

  /** blobs/sha256/<hex> */
  blobPath(digest: Digest): string {
    return join(this.blobsDir, digestHex(digest));
  }

  /** ingest/<sha256(ref)>.{partial,json} */
  ingestPaths(ref: string): IngestPaths {
    const key = createHash('sha256').update(ref).digest('hex');
    return { key, partial: join(this.ingestDir, `${key}.partial`), sidecar: join(this.ingestDir, `${key}.json`) };
  }
}
