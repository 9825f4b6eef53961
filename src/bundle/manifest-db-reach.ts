// Reachability over index.db's edges, walked in JS from one read of the table
// (ManifestDb.reach): inspect, import and the k8s plans want the blobs of every
// image, and a recursive query per root, or one over all roots (temp B-trees
// for UNION's dedupe and ORDER BY), cost more than reading ~6,000 edges once.
// Digests become numbers once (blobs first, in their order, then any other
// digest an edge names), the edges one array of child numbers per parent, and
// a walk marks nodes in one array stamped with the walk's number and lists
// them in another, both kept for the next walk: at 1,000 images, no Set of
// strings or array per image and no hashing of a digest per step.

/** The edges as numbered nodes: node i is `digests[i]`, its children `child[first[i]] … child[first[i + 1] - 1]`, in edge order. */
export interface ChildGraph {
  /** Node number of each digest: the blobs first, as numbered by the caller. */
  readonly node: ReadonlyMap<string, number>;
  readonly first: Int32Array;
  readonly child: Int32Array;
  /** Stamp of the walk that last reached each node. */
  readonly seen: Int32Array;
  walks: number;
  /** The last walk's nodes, in the order reached (reachable() says how many), then its stack. */
  readonly found: Int32Array;
  readonly stack: Int32Array;
}

/**
 * The graph of `[parent, child]` pairs (edges other than 'subject'), in any order;
 * `node` numbers the blobs 0…n-1 and is kept by the graph (digests edges name outside it get the next numbers).
 */
export function childGraph(node: Map<string, number>, edges: readonly (readonly unknown[])[]): ChildGraph {
  const number = (digest: string): number => {
    let n = node.get(digest);
    if (n === undefined) {
      n = node.size;
      node.set(digest, n);
    }
    return n;
  };
  const parents = new Int32Array(edges.length);
  const children = new Int32Array(edges.length);
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i] as readonly unknown[];
    parents[i] = number(e[0] as string);
    children[i] = number(e[1] as string);
  }
  // Counting sort by parent: each parent's children stay in edge order.
  const first = new Int32Array(node.size + 1);
  for (let i = 0; i < parents.length; i++) first[(parents[i] as number) + 1] += 1;
  for (let p = 0; p < node.size; p++) first[p + 1] += first[p] as number;
  const fill = first.slice(0, node.size);
  const child = new Int32Array(edges.length);
  for (let i = 0; i < parents.length; i++) child[(fill[parents[i] as number] as number)++] = children[i] as number;
  return { node, first, child, seen: new Int32Array(node.size), walks: 0, found: new Int32Array(node.size), stack: new Int32Array(node.size) };
}

/**
 * How many nodes are reachable from `root`, the root included, each once (the graph
 * may share nodes or, forged, loop); they are `graph.found[0 … count - 1]`, in the
 * order first reached, until the next walk. A root no edge or blob names reaches nothing.
 */
export function reachable(graph: ChildGraph, root: string): number {
  const start = graph.node.get(root);
  if (start === undefined) return 0;
  const { first, child, seen, found, stack } = graph;
  const stamp = ++graph.walks;
  // Each node is found and stacked at most once per walk: the arrays, one slot per node, hold them all.
  seen[start] = stamp;
  found[0] = start;
  stack[0] = start;
  let count = 1;
  let top = 1;
  while (top > 0) {
    const n = stack[--top] as number;
    const end = first[n + 1] as number;
    for (let i = first[n] as number; i < end; i++) {
      const c = child[i] as number;
      if (seen[c] !== stamp) {
        seen[c] = stamp;
        found[count++] = c;
        stack[top++] = c;
      }
    }
  }
  return count;
}
