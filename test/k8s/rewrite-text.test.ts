import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/core/digest.js';
import { formatReference } from '../../src/core/reference.js';
import { rewriteManifestText, type DigestPins, type ImageMapping } from '../../src/k8s/index.js';
import { parseDestination, parseRetagRule } from '../../src/transfer/retag.js';

// Real-world manifest shapes rewritten to the site registry: the whole output
// text is compared, so a comment moved, a quote dropped or an indentation
// changed fails the test just as a wrong image would.

const D = `sha256:${'ab'.repeat(32)}`;
const P = `sha256:${'cd'.repeat(32)}`;
const site: ImageMapping = { destination: parseDestination('site.example/mirror'), rules: [] };
const withMcrRule: ImageMapping = { ...site, rules: [parseRetagRule('mcr.microsoft.com/=site.example/mcr/')] };

/** Pins from a fixed table, as a bundle or the store would give them. */
function pins(table: Record<string, string>): DigestPins {
  return { source: 'test pins', lookup: async (ref) => table[formatReference({ ...ref, tag: ref.tag ?? 'latest' })] as Digest | undefined };
}

interface Case {
  name: string;
  mapping: ImageMapping;
  input: string;
  output: string;
  changes: number;
}

const cases: Case[] = [
  {
    name: 'Deployment: init containers, comments, quote styles, Hub short names, a port in the host, a digest',
    mapping: site,
    input: `# Web tier: nginx behind a migration step.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the front end
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
      - name: migrate
        image: registry.example.com:5000/team/migrate:2.1   # runs first
      containers:
        - name: web
          image: "nginx:1.25"
          ports:
            - containerPort: 80
        - name: exporter
          image: 'quay.io/prometheus/node-exporter@${D}'
        - name: shell
          image: busybox
`,
    output: `# Web tier: nginx behind a migration step.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the front end
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
      - name: migrate
        image: site.example/mirror/team/migrate:2.1   # runs first
      containers:
        - name: web
          image: "site.example/mirror/library/nginx:1.25"
          ports:
            - containerPort: 80
        - name: exporter
          image: 'site.example/mirror/prometheus/node-exporter@${D}'
        - name: shell
          image: site.example/mirror/library/busybox
`,
    changes: 4,
  },
  {
    name: 'multi-document: a Service, a Pod with ephemeral containers and tag+digest, a CronJob in flow style',
    mapping: site,
    input: `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
---
# debugging pod
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
  - name: app
    image: ghcr.io/acme/app:v1.2.3@${D}
  ephemeralContainers:
  - name: debugger
    image: docker.io/library/alpine:3.19 # added by kubectl debug
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: "localhost:5000/jobs/report:7"}]
...
`,
    output: `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
---
# debugging pod
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
  - name: app
    image: site.example/mirror/acme/app:v1.2.3@${D}
  ephemeralContainers:
  - name: debugger
    image: site.example/mirror/library/alpine:3.19 # added by kubectl debug
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: "site.example/mirror/jobs/report:7"}]
...
`,
    changes: 3,
  },
  {
    name: 'a List of a DaemonSet, a StatefulSet and a Job; a retag rule for mcr.microsoft.com wins over --registry',
    mapping: withMcrRule,
    input: `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    template:
      spec:
        nodeSelector: {kubernetes.io/os: windows}
        containers: [{name: agent, image: "mcr.microsoft.com/windows/servercore:ltsc2022"}]
- apiVersion: apps/v1
  kind: StatefulSet
  metadata:
    name: db
  spec:
    template:
      spec:
        containers:
        - name: postgres
          image: postgres:16.2
- apiVersion: batch/v1
  kind: Job
  metadata:
    name: seed
  spec:
    template:
      spec:
        containers:
        - name: seed
          image: mcr.microsoft.com/dotnet/runtime:8.0
`,
    output: `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    template:
      spec:
        nodeSelector: {kubernetes.io/os: windows}
        containers: [{name: agent, image: "site.example/mcr/windows/servercore:ltsc2022"}]
- apiVersion: apps/v1
  kind: StatefulSet
  metadata:
    name: db
  spec:
    template:
      spec:
        containers:
        - name: postgres
          image: site.example/mirror/library/postgres:16.2
- apiVersion: batch/v1
  kind: Job
  metadata:
    name: seed
  spec:
    template:
      spec:
        containers:
        - name: seed
          image: site.example/mcr/dotnet/runtime:8.0
`,
    changes: 3,
  },
  {
    name: 'CRLF line endings and a ReplicaSet kept as they are',
    mapping: site,
    input: 'apiVersion: apps/v1\r\nkind: ReplicaSet\r\nmetadata:\r\n  name: rs\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n      - name: c\r\n        image: redis:7 # cache\r\n',
    output: 'apiVersion: apps/v1\r\nkind: ReplicaSet\r\nmetadata:\r\n  name: rs\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n      - name: c\r\n        image: site.example/mirror/library/redis:7 # cache\r\n',
    changes: 1,
  },
  {
    name: 'pinning: the digest from the pin source is appended, the tag kept; an image already pinned keeps its digest',
    mapping: { ...site, pins: pins({ 'docker.io/library/nginx:1.25': P, 'docker.io/library/busybox:latest': D }) },
    input: `kind: Pod
metadata:
  name: pinned
spec:
  containers:
  - name: web
    image: nginx:1.25
  - name: shell
    image: busybox
  - name: fixed
    image: "ghcr.io/acme/tool:1@${D}"
`,
    output: `kind: Pod
metadata:
  name: pinned
spec:
  containers:
  - name: web
    image: site.example/mirror/library/nginx:1.25@${P}
  - name: shell
    image: site.example/mirror/library/busybox@${D}
  - name: fixed
    image: "site.example/mirror/acme/tool:1@${D}"
`,
    changes: 3,
  },
];

describe('rewriteManifestText', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const result = await rewriteManifestText(c.input, 'case.yaml', c.mapping);
      expect(result.text).toBe(c.output);
      expect(result.changes).toHaveLength(c.changes);
      expect(result.warnings).toEqual([]);
      // Rewriting the output again changes nothing: values already at the destination stay.
      const again = await rewriteManifestText(result.text, 'case.yaml', c.mapping);
      expect(again.text).toBe(c.output);
      expect(again.changes).toEqual([]);
    });
  }

  it('reports each change with kind, object, container, field and line', async () => {
    const first = cases[0] as Case;
    const { changes } = await rewriteManifestText(first.input, 'web.yaml', site);
    expect(changes.map((c) => [c.kind, c.name, c.field, c.container, c.line, c.from, c.to])).toEqual([
      ['Deployment', 'web', 'initContainers', 'migrate', 14, 'registry.example.com:5000/team/migrate:2.1', 'site.example/mirror/team/migrate:2.1'],
      ['Deployment', 'web', 'containers', 'web', 17, 'nginx:1.25', 'site.example/mirror/library/nginx:1.25'],
      ['Deployment', 'web', 'containers', 'exporter', 21, `quay.io/prometheus/node-exporter@${D}`, `site.example/mirror/prometheus/node-exporter@${D}`],
      ['Deployment', 'web', 'containers', 'shell', 23, 'busybox', 'site.example/mirror/library/busybox'],
    ]);
  });

  it('leaves files without pod specs byte-identical (an image key in a ConfigMap is data, not a container)', async () => {
    const text = `# settings\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  image: nginx:1.25\n  spec: |\n    containers:\n    - image: nginx\n`;
    const result = await rewriteManifestText(text, 'cm.yaml', site);
    expect(result.text).toBe(text);
    expect(result.changes).toEqual([]);
  });

  it('warns about and keeps templated values, aliases and unpinnable images', async () => {
    const text = `kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: templated
    image: "\${IMAGE}"
  - name: anchored
    image: &img alpine:3.19
  - name: aliased
    image: *img
  - name: unknown
    image: quay.io/acme/unknown:1
`;
    const result = await rewriteManifestText(text, 'p.yaml', { ...site, pins: pins({}) });
    expect(result.warnings.map((w) => [w.line, w.message.split(':')[0]])).toEqual([
      [6, 'Pod/p containers[templated]'],
      [8, 'Pod/p containers[anchored]'],
      [10, 'Pod/p containers[aliased]'],
      [12, 'Pod/p containers[unknown]'],
    ]);
    expect(result.warnings[0]?.message).toContain('not an image reference');
    expect(result.warnings[2]?.message).toContain('alias');
    expect(result.warnings[3]?.message).toContain('left unpinned');
    // The anchored scalar is rewritten (the alias follows it); the template is left.
    expect(result.text).toBe(text.replace('&img alpine:3.19', '&img site.example/mirror/library/alpine:3.19').replace('quay.io/acme/unknown:1', 'site.example/mirror/acme/unknown:1'));
  });

  it('refuses invalid YAML with the file and line, and a --registry that is not a host is refused earlier', async () => {
    await expect(rewriteManifestText('kind: Pod\nspec:\n  containers: [\n', 'broken.yaml', site)).rejects.toThrow(/broken\.yaml:\d+: not valid YAML/);
  });
});
