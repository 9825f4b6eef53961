import type { LimitFunction } from 'p-limit';
import { FerryError, NotFoundError, type Digest } from '../../core/index.js';
import { referrerTagSubject, type ManifestNodes } from './manifest-node.js';

// What a repository's tags still reach, for `ferry prune`: from every ordinary
// tag, an index's children (all the way down) and a referrer's subject; then
// every referrer tag (`sha256-<hex>`, cosign `sha256-<hex>.sig`) whose subject
// is reached, until nothing new is. A tag that cannot be resolved or walked is
// reported, and the caller then keeps the whole repository: better an orphan
// left than a reachable manifest deleted.

export interface Reachability {
  readonly reachable: ReadonlySet<Digest>;
  /** The repository's tags, as listed. */
  readonly tags: readonly string[];
  /** Tags whose graph could not be read, and why. */
  readonly unresolved: ReadonlyArray<{ tag: string; error: string }>;
}

export async function reachableFrom(nodes: ManifestNodes, tags: readonly string[], limit: LimitFunction): Promise<Reachability> {
  const reachable = new Set<Digest>();
  const unresolved: Array<{ tag: string; error: string }> = [];
  const visit = async (reference: string, optional: boolean): Promise<void> => {
    let node;
    try {
      node = await limit(() => nodes.get(reference));
    } catch (e) {
      // A dangling child or subject is nothing to keep; a tag that does not resolve is not so simple.
      if (optional && e instanceof NotFoundError) return;
      throw e;
    }
    if (reachable.has(node.descriptor.digest)) return;
    reachable.add(node.descriptor.digest);
    await Promise.all([...node.children.map((c) => visit(c, true)), ...(node.subject ? [visit(node.subject, true)] : [])]);
  };
  const walkTag = async (tag: string): Promise<void> => {
    try {
      await visit(tag, false);
    } catch (e) {
      if (!(e instanceof FerryError)) throw e;
      unresolved.push({ tag, error: e.message });
    }
  };
  const pending = new Map<string, Digest>();
  const ordinary: string[] = [];
  for (const tag of tags) {
    const subject = referrerTagSubject(tag);
    if (subject) pending.set(tag, subject);
    else ordinary.push(tag);
  }
  await Promise.all(ordinary.map(walkTag));
  // Referrer tags count once their subject is reached; a referrer of a referrer needs another round.
  for (let grew = true; grew; ) {
    const ready = [...pending].filter(([, subject]) => reachable.has(subject)).map(([tag]) => tag);
    for (const tag of ready) pending.delete(tag);
    grew = ready.length > 0;
    await Promise.all(ready.map(walkTag));
  }
  return { reachable, tags, unresolved };
}
