import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Descriptor } from '../core/descriptor.js';
import { isDigest } from '../core/digest.js';
import { ErrorCode, UsageError } from '../core/errors.js';
import { MAX_METADATA_BYTES } from '../core/limits.js';

// What a far-side registry already holds (design §4 "Deltas"): written there by
// `ferry inventory` (or from the store's import receipts), carried back, and
// given to `ferry export --since` so the next bundle leaves those blobs out.

export const INVENTORY_FORMAT = 'ferry.inventory.v1';

export interface Inventory {
  format: typeof INVENTORY_FORMAT;
  registry: string;
  created: string;
  /** Tags seen, for people reading the file. */
  images: Array<{ name: string; digest: string }>;
  blobs: Array<Pick<Descriptor, 'digest' | 'size'>>;
}

export async function readInventory(path: string): Promise<Inventory> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_METADATA_BYTES * 16) throw new UsageError(`inventory ${path} is implausibly large`);
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read inventory ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'make one on the far side with `ferry inventory REGISTRY -o FILE`',
    });
  }
  let doc: Partial<Inventory>;
  try {
    doc = JSON.parse(text) as Partial<Inventory>;
  } catch {
    throw new UsageError(`inventory ${path} is not JSON`, { code: ErrorCode.usage });
  }
  if (doc.format !== INVENTORY_FORMAT || !Array.isArray(doc.blobs) || !doc.blobs.every((b) => isDigest(b.digest) && Number.isSafeInteger(b.size))) {
    throw new UsageError(`inventory ${path} is not a ${INVENTORY_FORMAT} file`, { hint: 'make one with `ferry inventory REGISTRY -o FILE`' });
  }
  return { format: INVENTORY_FORMAT, registry: String(doc.registry ?? ''), created: String(doc.created ?? ''), images: doc.images ?? [], blobs: doc.blobs };
}

/** The inventory file's bytes (what writeInventory writes, and `-o -` prints). */
export function serializeInventory(inventory: Inventory): string {
  return `${JSON.stringify(inventory, null, 2)}\n`;
}

export async function writeInventory(path: string, inventory: Inventory): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, serializeInventory(inventory));
  await rename(tmp, path);
}
