import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';

// Where Kubernetes objects keep container images: the pod spec of a Pod, of a
// workload's pod template, of a CronJob's job template; in each, `containers`,
// `initContainers` and `ephemeralContainers`. List kinds (`kind: List`,
// `DeploymentList`, …) hold objects in `items`. Unknown kinds (CRDs such as
// Argo Rollouts) are searched at the two usual template paths.

export const CONTAINER_FIELDS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
export type ContainerField = (typeof CONTAINER_FIELDS)[number];

/** One `image:` value in a document, with enough context to report it. */
export interface ImageField {
  /** The value node (a scalar for any sane manifest; checked by the caller). */
  node: Node;
  kind: string;
  /** metadata.name of the object ('' when absent). */
  name: string;
  /** The container's name ('' when absent). */
  container: string;
  field: ContainerField;
}

const TEMPLATE = ['spec', 'template', 'spec'];
const JOB_TEMPLATE = ['spec', 'jobTemplate', 'spec', 'template', 'spec'];

const POD_SPEC_PATHS: Record<string, string[][]> = {
  Pod: [['spec']],
  PodTemplate: [['template', 'spec']],
  Deployment: [TEMPLATE],
  StatefulSet: [TEMPLATE],
  DaemonSet: [TEMPLATE],
  ReplicaSet: [TEMPLATE],
  ReplicationController: [TEMPLATE],
  Job: [TEMPLATE],
  CronJob: [JOB_TEMPLATE],
};

function child(node: unknown, key: string | number): unknown {
  if (isMap(node)) return node.get(key, true);
  if (isSeq(node) && typeof key === 'number') return node.get(key, true);
  return undefined;
}

function at(node: unknown, path: readonly (string | number)[]): unknown {
  let here = node;
  for (const key of path) here = child(here, key);
  return here;
}

function text(node: unknown): string {
  return isScalar(node) && typeof node.value === 'string' ? node.value : '';
}

function fromPodSpec(spec: unknown, kind: string, name: string, out: ImageField[]): void {
  for (const field of CONTAINER_FIELDS) {
    const list = child(spec, field);
    if (!isSeq(list)) continue;
    for (const item of list.items) {
      if (!isMap(item)) continue;
      const image = item.get('image', true);
      if (image === undefined || image === null) continue;
      if (isScalar(image) || isAlias(image) || isMap(image) || isSeq(image)) out.push({ node: image, kind, name, container: text(item.get('name', true)), field });
    }
  }
}

function fromObject(object: unknown, out: ImageField[], depth: number): void {
  if (!isMap(object) || depth > 8) return;
  const kind = text(object.get('kind', true));
  const items = object.get('items', true);
  if (kind.endsWith('List') && isSeq(items)) {
    for (const item of items.items) fromObject(item, out, depth + 1);
    return;
  }
  const name = text(at(object, ['metadata', 'name']));
  for (const path of POD_SPEC_PATHS[kind] ?? [TEMPLATE, JOB_TEMPLATE]) {
    const spec = at(object, path);
    if (isMap(spec)) fromPodSpec(spec, kind || '(no kind)', name, out);
  }
}

/** Every container image field of a parsed YAML document, in document order. */
export function imageFields(doc: Document): ImageField[] {
  const out: ImageField[] = [];
  fromObject(doc.contents, out, 0);
  return out;
}
