// Reachability over index.db's edges, walked in JS from one read of the table
// (ManifestDb.reach): inspect, import and the k8s plans want the blobs of every
// image, and a recursive query per root, or one over all roots (temp B-trees
// for UNION's dedupe and ORDER BY), cost more than reading ~6,000 edges once.
// Digests become numbers once (blobs first, in their order, then any other
// digest an edge names), the edges one array of child numbers per parent, and
// a walk marks nodes in one array stamped with the walk's number: at 1,000
// images, no Set of strings per image and no hashing of a digest per step.

/** The edges as numbered nodes: node i is `digests[i]`, its children `child[first[i]] … child[first[i + 1] - 1]`, in edge order. */
export interface ChildGraph {
  /** Node number of each digest: the blobs first, as numbered by the caller. */
  readonly node: ReadonlyMap<string, number>;
  readonly first: Int32Array;
  readonly child: Int32Array;
  /** Stamp of the walk that last reached each node. */
  readonly seen: Int32Array;
  walks: number;
}

/**
 * The graph of `[parent, child]` pairs (edges other than 'subject'), in any order;
 * `known` numbers the blobs 0…n-1 (digests edges name outside it get the next numbers).
 */
export function childGraph(known: ReadonlyMap<string, number>, edges: readonly (readonly unknown[])[]): ChildGraph {
  const node = new Map(known);
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
  return { node, first, child, seen: new Int32Array(node.size), walks: 0 };
}

/**
 * The node numbers reachable from `root`, the root included, each once (the graph
 * may share nodes or, forged, loop), in the order they are first reached; a root
 * no edge or blob names reaches nothing.
 */
export function reachable(graph: ChildGraph, root: string): number[] {
  const start = graph.node.get(root);
  if (start === undefined) return [];
  const { first, child, seen } = graph;
  const stamp = ++graph.walks;
  seen[start] = stamp;
  const order = [start];
  const stack = [start];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    const end = first[n + 1] as number;
    for (let i = first[n] as number; i < end; i++) {
      const c = child[i] as number;
      if (seen[c] !== stamp) {
        seen[c] = stamp;
        order.push(c);
        stack.push(c);
      }
    }
  }
  return order;
}
