// Reachability over index.db's edges, walked in JS from one read of the table
// (ManifestDb.reach): inspect, import and the k8s plans want the blobs of every
// image, and a recursive query per root, or one over all roots (temp B-trees
// for UNION's dedupe and ORDER BY), cost more than reading ~6,000 edges once.

/** Children of each parent along the edges that make up an image (subjects are not followed). */
export type ChildMap = ReadonlyMap<string, readonly string[]>;

/** `[parent, child]` pairs (edges other than 'subject'), in any order. */
export function childMap(edges: Iterable<readonly [string, string]>): ChildMap {
  const map = new Map<string, string[]>();
  for (const [parent, child] of edges) {
    const list = map.get(parent);
    if (list) list.push(child);
    else map.set(parent, [child]);
  }
  return map;
}

/** Every digest reachable from `root`, the root included, each once (the graph may share nodes or, forged, loop). */
export function reachable(children: ChildMap, root: string): Set<string> {
  const seen = new Set<string>([root]);
  const stack = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    for (const child of children.get(node) ?? []) {
      if (!seen.has(child)) {
        seen.add(child);
        stack.push(child);
      }
    }
  }
  return seen;
}
