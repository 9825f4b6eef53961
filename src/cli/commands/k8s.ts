import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { parsePlatformList } from '../../core/platform.js';
import {
  DEFAULT_CONFIG_PATH,
  formatEndpoint,
  parseMirrorEndpoint,
  pinsFromBundle,
  pinsFromStore,
  preloadBundle,
  readMirrorSources,
  requireHostLike,
  rewriteManifests,
  writeMirrorConfig,
  type DigestPins,
  type ForeignLayerMode,
  type MirrorConfigReport,
  type PreloadReport,
  type RewriteOutput,
  type RewriteReport,
} from '../../k8s/index.js';
import type { Store } from '../../store/index.js';
import { parseDestination, parseRetagRule, type Destination, type RetagRule } from '../../transfer/retag.js';
import { parseSpec } from '../../transfer/spec.js';
import { verificationKeys } from '../key-flags.js';
import { defineCommand, type CommandContext, type GlobalArgs } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { formatBytes, formatTable, type Output } from '../output.js';
import { progressReporter } from '../progress-bars.js';

// `ferry k8s mirror-config | rewrite | preload` (design §5): three subcommands,
// each with its own flags and --help; they share the argument type and checks.

type Action = 'mirror-config' | 'rewrite' | 'preload';

interface K8sArgs extends GlobalArgs {
  action: Action;
  bundle?: string;
  file?: string[];
  output?: string;
  registry?: string;
  retag?: string[];
  spec?: string;
  'plain-http'?: boolean;
  'ca-cert'?: string;
  'skip-verify'?: boolean;
  upstream?: string[];
  'config-path'?: string;
  'pin-digests'?: string;
  'pin-digests-from-store'?: boolean;
  'store-names'?: boolean;
  'foreign-layers'?: ForeignLayerMode;
  'in-place'?: boolean;
  key?: string | string[];
  'require-signature'?: boolean;
  address?: string;
  namespace?: string;
  platform?: string[];
  ctr?: string;
  pin?: boolean;
  'dry-run'?: boolean;
}

function checkArgs(a: K8sArgs): true {
  // Another action's flags never get here: each subcommand declares only its own, and yargs (strict) refuses the rest.
  if (a.action === 'mirror-config') {
    if (!a.registry) throw new UsageError('ferry k8s mirror-config needs --registry HOST[:PORT][/PREFIX] (the mirror nodes pull from)');
    if (!a.output) throw new UsageError('ferry k8s mirror-config needs -o DIR (the certs.d tree to write)');
    if (!a.file?.length && !a.upstream?.length) throw new UsageError('name the upstream registries: -f BUNDLE|SPEC, or --upstream HOST');
  } else if (a.action === 'rewrite') {
    if (!a.file?.length) throw new UsageError('ferry k8s rewrite needs -f FILE|DIR');
    if (!a.registry && !a.retag?.length && !a.spec) throw new UsageError('say where images go: --registry HOST[:PORT][/PREFIX], --retag FROM=TO or --spec SPEC');
    if (a.output && a['in-place']) throw new UsageError('give -o OUTDIR or --in-place, not both');
    if (a['pin-digests'] && a['pin-digests-from-store']) throw new UsageError('give --pin-digests BUNDLE or --pin-digests-from-store, not both');
    if (storeNamed(a)) checkStoreNamed(a);
    if (a.output === '-' && a.json) throw new UsageError('-o - writes manifests to stdout; it does not go with --json');
  } else if (!a.bundle) {
    throw new UsageError('ferry k8s preload needs a BUNDLE');
  }
  return true;
}

/**
 * The registry is ferry serve, so names are store names: said (--store-names),
 * or implied by pins from the store with a bare --registry HOST:PORT (ferry
 * serve has no path prefix and no retag rules; with them the store only lends
 * its digests to a site registry's names). --no-store-names turns it off.
 */
function storeNamed(a: K8sArgs): boolean {
  if (a['store-names'] !== undefined) return a['store-names'];
  return Boolean(a['pin-digests-from-store'] && a.registry && !parseDestination(a.registry).prefix && !a.retag?.length && !a.spec);
}

/** ferry serve serves the store at its root, under store names: no prefix, no retag rules. */
function checkStoreNamed(a: K8sArgs): void {
  if (!a.registry) throw new UsageError('--store-names needs --registry HOST:PORT (where ferry serve listens)');
  if (parseDestination(a.registry).prefix) throw new UsageError('--store-names: ferry serve serves its images at the root, so --registry takes HOST:PORT without a path');
  if (a.retag?.length || a.spec) throw new UsageError('--store-names names images as the store does; it does not take --retag or --spec');
}

/** --retag rules, after the retag rules of --spec (as ferry import -f reads them). */
async function rulesOf(a: K8sArgs): Promise<RetagRule[]> {
  const rules = (a.retag ?? []).map(parseRetagRule);
  if (!a.spec) return rules;
  const text = await readFile(a.spec, 'utf8').catch((err: unknown) => {
    throw new UsageError(`cannot read spec ${a.spec ?? ''}: ${(err as Error).message}`);
  });
  return [...parseSpec(text, a.spec).retag, ...rules];
}

function destinationOf(a: K8sArgs): Destination | undefined {
  if (!a.registry) return undefined;
  const d = parseDestination(a.registry);
  requireHostLike(d.registry, '--registry');
  return d;
}

async function mirrorConfig(a: K8sArgs, { out }: CommandContext): Promise<void> {
  const mirror = parseMirrorEndpoint(a.registry ?? '', { plainHttp: Boolean(a['plain-http']) });
  const sources = await readMirrorSources(a.file ?? [], a.upstream ?? []);
  const report = await writeMirrorConfig({
    upstreams: sources.upstreams,
    mirror,
    rules: [...sources.rules, ...(a.retag ?? []).map(parseRetagRule)],
    outDir: a.output ?? '',
    ...(a['ca-cert'] ? { caCert: a['ca-cert'] } : {}),
    ...(a['skip-verify'] ? { skipVerify: true } : {}),
    configPath: a['config-path'] ?? DEFAULT_CONFIG_PATH,
  });
  for (const w of report.warnings) out.warn(w);
  out.result({ mirror: formatEndpoint(mirror), ...report }, () => describeMirrorConfig(report, a['config-path'] ?? DEFAULT_CONFIG_PATH));
}

function describeMirrorConfig(r: MirrorConfigReport, configPath: string): string {
  return [
    `wrote ${r.files.length} hosts.toml file(s) under ${r.outDir}:`,
    formatTable(['UPSTREAM', 'MIRROR', 'FALLBACK'], r.files.map((f) => [f.upstream, `${f.mirror}${f.overridePath ? ' (override_path)' : ''}`, f.server])),
    ...r.skipped.map((s) => `skipped ${s.upstream}: ${s.reason}`),
    '',
    `On every node, copy ${r.outDir}/* to ${configPath}/ and make sure /etc/containerd/config.toml has:`,
    '',
    r.containerdConfig,
    '',
    'Restart containerd after changing config.toml; hosts.toml files are read on every pull.',
  ].join('\n');
}

async function pinsFor(a: K8sArgs, stores: Store[], out: Output): Promise<DigestPins | undefined> {
  if (a['pin-digests']) {
    const key = await verificationKeys(a.key, out);
    return pinsFromBundle(a['pin-digests'], { ...(key ? { key } : {}), ...(a['require-signature'] ? { requireSignature: true } : {}), foreignLayers: a['foreign-layers'] ?? 'localize' });
  }
  if (!a['pin-digests-from-store']) return undefined;
  const store = await openStoreFromArgs(a, { readOnly: true });
  stores.push(store);
  return pinsFromStore(store);
}

async function rewrite(a: K8sArgs, { out }: CommandContext): Promise<void> {
  const destination = destinationOf(a);
  const rules = await rulesOf(a);
  const output: RewriteOutput = a['in-place'] ? { kind: 'in-place' } : a.output === '-' ? { kind: 'stdout' } : a.output ? { kind: 'dir', dir: a.output } : { kind: 'preview' };
  const stores: Store[] = [];
  try {
    const pins = await pinsFor(a, stores, out);
    const { report, texts } = await rewriteManifests({ inputs: a.file ?? [], mapping: { ...(destination ? { destination } : {}), rules, ...(pins ? { pins } : {}), ...(storeNamed(a) ? { storeNames: true } : {}) }, output });
    for (const w of report.warnings) out.warn(`${w.file}:${w.line}: ${w.message}`);
    if (output.kind === 'stdout') {
      process.stdout.write(joinDocuments(texts.map((t) => t.text)));
      if (!a.quiet) process.stderr.write(`${summary(report)}\n`);
      return;
    }
    out.result(report, () => describeRewrite(report));
  } finally {
    for (const s of stores) await s.close();
  }
}

/** Files joined into one YAML stream for `kubectl apply -f -`. */
function joinDocuments(texts: string[]): string {
  return texts
    .filter((t) => t.trim() !== '')
    .map((t, i) => `${i > 0 && !t.startsWith('---') ? '---\n' : ''}${t.endsWith('\n') ? t : `${t}\n`}`)
    .join('');
}

function summary(r: RewriteReport): string {
  const what = `${r.images} image(s) in ${r.changed} file(s) rewritten${r.pinned ? ` (${r.pinned} pinned by digest)` : ''}, ${r.unchanged} file(s) unchanged`;
  switch (r.output) {
    case 'dir':
      return `${what}; written under ${r.outDir ?? ''}`;
    case 'in-place':
      return `${what}; changed files rewritten in place`;
    case 'stdout':
      return what;
    default:
      return `${what}; preview only, nothing written (give -o OUTDIR, -o - or --in-place)`;
  }
}

function describeRewrite(r: RewriteReport): string {
  const lines: string[] = [];
  for (const f of r.files.filter((x) => x.changed)) {
    lines.push(f.path);
    for (const c of f.changes) lines.push(`  ${c.kind}${c.name ? `/${c.name}` : ''} ${c.field}[${c.container}] line ${c.line}: ${c.from} -> ${c.to}`);
  }
  lines.push(summary(r));
  return lines.join('\n');
}

async function preload(a: K8sArgs, ctx: CommandContext): Promise<void> {
  const key = await verificationKeys(a.key, ctx.out);
  const destination = destinationOf(a);
  const rules = await rulesOf(a);
  const progress = progressReporter(ctx, 'preload');
  try {
    const report = await preloadBundle({
      bundle: a.bundle ?? '',
      ...(key ? { key } : {}),
      ...(a['require-signature'] ? { requireSignature: true } : {}),
      target: { ctr: a.ctr ?? 'ctr', address: a.address ?? '/run/containerd/containerd.sock', namespace: a.namespace ?? 'k8s.io' },
      platforms: parsePlatformList(a.platform),
      ...(destination || rules.length ? { rename: { ...(destination ? { destination } : {}), rules } } : {}),
      pin: Boolean(a.pin),
      dryRun: Boolean(a['dry-run']),
      signal: ctx.signal,
      onEvent: progress.sink,
    });
    progress.done();
    ctx.out.result({ ...report, progress: progress.counters() }, () => describePreload(report));
  } finally {
    progress.done();
  }
}

function describePreload(r: PreloadReport): string {
  const head = r.dryRun
    ? `dry run: would load ${r.images.length} image(s), ${r.blobs.count} blobs (${formatBytes(r.blobs.bytes)}) into containerd at ${r.address}, namespace ${r.namespace}`
    : `loaded ${r.images.length} image(s), ${r.blobs.count} blobs (${formatBytes(r.blobs.bytes)}) into containerd at ${r.address}, namespace ${r.namespace}; signature: ${r.bundle.signature}${r.pinned ? '; pinned against image GC' : ''}`;
  return [
    head,
    formatTable(['NAME', 'DIGEST', 'PLATFORMS'], r.images.map((i) => [i.name, i.digest, i.platforms.join(', ')])),
    ...r.skipped.map((s) => `skipped ${s.name}: ${s.reason}`),
  ].join('\n');
}

// Flags two or three actions share, each described for the action it is on.
const REGISTRY = { type: 'string', describe: 'the mirror or site registry HOST[:PORT][/PREFIX] (as given to ferry import --to)' } as const;
const RETAG = { type: 'string', array: true, nargs: 1, describe: 'FROM=TO name prefix rule, as for ferry import (longest prefix wins)' } as const;
const SPEC = { type: 'string', describe: 'a spec (bundles/*.yaml) whose retag rules apply, as with ferry import -f' } as const;
const KEY = { type: 'string', array: true, nargs: 1, describe: 'public key (NAME.pub): the bundle signature must verify with it (repeat for several trusted keys)' } as const;
const REQUIRE_SIGNATURE = { type: 'boolean', describe: 'refuse an unsigned bundle (implied by --key)' } as const;

/** One action as its own subcommand: its flags only (yargs refuses the others), then the action's own checks. */
function action(name: Action, spec: { command: string; describe: string; builder: (y: Argv<GlobalArgs>) => Argv<unknown>; examples: Array<[string, string]> }, run: (a: K8sArgs, ctx: CommandContext) => Promise<void>) {
  return defineCommand<K8sArgs>({
    command: spec.command,
    describe: spec.describe,
    builder: (y) => spec.builder(y).check((a) => checkArgs({ ...(a as unknown as K8sArgs), action: name })) as unknown as Argv<K8sArgs>,
    examples: spec.examples,
    docs: 'docs/kubernetes.md',
    run: (a, ctx) => run({ ...a, action: name }, ctx),
  });
}

const mirrorConfigCommand = action(
  'mirror-config',
  {
    command: 'mirror-config',
    describe: 'write containerd hosts.toml files (one per upstream registry) that send pulls to the mirror',
    builder: (y) =>
      y
        .option('file', { alias: 'f', type: 'string', array: true, nargs: 1, describe: 'a BUNDLE or SPEC naming the upstream registries (repeatable)' })
        .option('output', { alias: 'o', type: 'string', describe: 'the certs.d DIR to write' })
        .option('registry', REGISTRY)
        .option('retag', RETAG)
        .option('plain-http', { type: 'boolean', describe: 'the mirror speaks HTTP (ferry serve without TLS)' })
        .option('ca-cert', { type: 'string', describe: 'PEM CA of the mirror: copied beside each hosts.toml and named by it' })
        .option('skip-verify', { type: 'boolean', describe: 'skip_verify = true: do not check the mirror certificate' })
        .option('upstream', { type: 'string', array: true, nargs: 1, describe: 'an upstream registry host to configure (besides those of -f)' })
        .option('config-path', { type: 'string', describe: `where the tree goes on nodes (default ${DEFAULT_CONFIG_PATH})` }),
    examples: [
      ['ferry k8s mirror-config -f bundle.tar --registry mirror.site.example:5000 --ca-cert site-ca.pem -o certs.d', 'a hosts.toml for every registry the bundle names'],
      ['ferry k8s mirror-config --upstream docker.io --registry 10.0.0.5:5000 --plain-http -o certs.d', 'one upstream, a plain-HTTP mirror (ferry serve)'],
    ],
  },
  mirrorConfig,
);

const rewriteCommand = action(
  'rewrite',
  {
    command: 'rewrite',
    describe: 'point the image fields of Kubernetes manifests at the site registry (optionally pinned by digest)',
    builder: (y) =>
      y
        .option('file', { alias: 'f', type: 'string', array: true, nargs: 1, describe: 'manifest FILE or DIR (repeatable)' })
        .option('output', { alias: 'o', type: 'string', describe: 'OUTDIR (unchanged files copied), or - for stdout' })
        .option('registry', REGISTRY)
        .option('retag', RETAG)
        .option('spec', SPEC)
        .option('store-names', { type: 'boolean', describe: '--registry is ferry serve: name images as the store does, HOST:PORT/docker.io/library/nginx (implied by --pin-digests-from-store with a bare HOST:PORT; --no-store-names to keep site names)' })
        .option('pin-digests', { type: 'string', describe: 'pin @sha256 digests from this bundle (as ferry import will land them)' })
        .option('pin-digests-from-store', { type: 'boolean', describe: 'pin digests from the local store (what ferry serve serves)' })
        .option('foreign-layers', { choices: ['localize', 'preserve'] as const, describe: 'with --pin-digests: how the bundle was (will be) imported (default localize)' })
        .option('in-place', { type: 'boolean', describe: 'rewrite changed files where they are (unchanged files are not touched)' })
        .option('key', { ...KEY, describe: 'with --pin-digests: public key (NAME.pub) the bundle signature must verify with (repeatable)' })
        .option('require-signature', { ...REQUIRE_SIGNATURE, describe: 'with --pin-digests: refuse an unsigned bundle (implied by --key)' }),
    examples: [
      ['ferry k8s rewrite -f manifests/ --registry site.example/mirror -o site-manifests/', 'a rewritten copy of a directory of manifests'],
      ['ferry k8s rewrite -f deploy.yaml --registry site.example/mirror --pin-digests bundle.tar -o - | kubectl apply -f -', 'pinned by digest, straight to kubectl'],
      ['ferry k8s rewrite -f manifests --registry 127.0.0.1:5310 --pin-digests-from-store -o -', 'for ferry serve, digests from the store'],
    ],
  },
  rewrite,
);

const preloadCommand = action(
  'preload',
  {
    command: 'preload <bundle>',
    describe: "load a bundle's images into a node's containerd (ctr), so pods start without a registry",
    builder: (y) =>
      y
        .positional('bundle', { type: 'string', describe: 'the bundle (file, NAME.000 or NAME.volumes.json)' })
        .option('key', KEY)
        .option('require-signature', REQUIRE_SIGNATURE)
        .option('registry', { ...REGISTRY, describe: 'name the images as on this site registry HOST[:PORT][/PREFIX] (as given to ferry import --to)' })
        .option('retag', RETAG)
        .option('spec', SPEC)
        .option('address', { type: 'string', describe: 'containerd socket (default /run/containerd/containerd.sock)' })
        .option('namespace', { type: 'string', describe: 'containerd namespace (default k8s.io, the one CRI uses)' })
        .option('platform', { type: 'string', array: true, nargs: 1, describe: 'OS/ARCH[/VARIANT]: load only these platforms (repeatable; default all)' })
        .option('ctr', { type: 'string', describe: 'path of ctr (default ctr)' })
        .option('pin', { type: 'boolean', describe: `label images ${'io.cri-containerd.pinned=pinned'} so kubelet image GC keeps them (containerd >= 1.7)` })
        .option('dry-run', { type: 'boolean', describe: 'show what would be loaded; touch nothing' }),
    examples: [
      ['ferry k8s preload bundle.tar --key site.pub', 'on the node, as root'],
      ['ferry k8s preload /media/usb/bundle.000 --platform linux/amd64 --pin', "this node's platform only, kept from image GC"],
      ['ferry k8s preload bundle.tar --dry-run', 'what would be loaded'],
    ],
  },
  preload,
);

export const k8sCommand = defineCommand<GlobalArgs>({
  command: 'k8s',
  describe: 'Kubernetes: containerd mirror config, manifest rewriting, preloading nodes',
  builder: (y) => y,
  subcommands: [mirrorConfigCommand, rewriteCommand, preloadCommand],
  examples: [
    ['ferry k8s mirror-config -f bundle.tar --registry mirror.site.example:5000 -o certs.d', 'send the nodes\' pulls to the mirror'],
    ['ferry k8s rewrite -f manifests/ --registry site.example/mirror -o site-manifests/', 'or rewrite the manifests'],
    ['ferry k8s preload bundle.tar --key site.pub', 'or load the images into a node directly'],
  ],
  docs: 'docs/kubernetes.md',
});
