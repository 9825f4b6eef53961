import { createRequire } from 'node:module';
import { ErrorCode, UsageError } from '../core/errors.js';
import { parsePlatform, type Platform } from '../core/platform.js';
import { parseReference, type Reference } from '../core/reference.js';
import { parseRetagRule, type RetagRule } from './retag.js';
import { parseSpecPolicy, type SpecPolicyEntry } from './spec-policy.js';

// A declarative bundle spec (bundles/*.yaml): what to carry and how to name it on
// the far side. `ferry export -f` and `ferry import -f` read it.

// The YAML parser is loaded on the first spec read, not with every command that
// can take one: loading it cost each `ferry import` ~100 ms of CPU (bench, issue 16).
const require = createRequire(import.meta.url);
const parseYaml = (text: string): unknown => (require('yaml') as typeof import('yaml')).parse(text);

/**
 * A spec written as JSON (JSON is YAML: scripts and the bench write it so) is read with JSON.parse, and
 * the YAML parser (~70 ms of CPU to load) only for YAML; text JSON refuses, or JSON naming a key twice
 * (which JSON.parse reads as the last and YAML refuses), goes to the YAML parser, whose answer stands.
 */
function parseDocument(text: string): unknown {
  if (/^\s*\{/.test(text)) {
    try {
      const doc = JSON.parse(text) as unknown;
      if (!hasDuplicateKey(text)) return doc;
    } catch {
      // Not JSON after all: YAML says what is wrong (or reads it: flow mappings are YAML too).
    }
  }
  return parseYaml(text);
}

/** Whether an object of `json` (text JSON.parse accepted) names one key twice. */
function hasDuplicateKey(json: string): boolean {
  const objects: Array<Set<string> | undefined> = []; // undefined: an array
  let atKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const keys = objects[objects.length - 1];
      if (atKey && keys) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (keys.has(key)) return true;
        keys.add(key);
        atKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      objects.push(c === '{' ? new Set() : undefined);
      atKey = c === '{';
    } else if (c === '}' || c === ']') {
      objects.pop();
      atKey = false;
    } else if (c === ',') atKey = objects[objects.length - 1] !== undefined;
  }
  return false;
}

export interface SpecImage {
  reference: Reference;
  /** Empty = every platform the image has. */
  platforms: Platform[];
  /** Export every tag of the repository matching this pattern instead of the reference's tag. */
  tagPattern?: RegExp;
  withReferrers: boolean;
}

export interface BundleSpec {
  name: string;
  images: SpecImage[];
  retag: RetagRule[];
  /** The `policy:` section: keys that must have signed which repositories (docs/signatures.md). */
  policy: SpecPolicyEntry[];
}

function fail(where: string, what: string): never {
  throw new UsageError(`spec ${where}: ${what}`, { code: ErrorCode.usage, hint: 'see bundles/*.yaml for the format' });
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(where, 'must be a list of strings');
  return value as string[];
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'must be a mapping');
  return value as Record<string, unknown>;
}

function withWhere<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    fail(where, (err as Error).message);
  }
}

export function parseSpec(text: string, origin: string): BundleSpec {
  let doc: unknown;
  try {
    doc = parseDocument(text);
  } catch (err) {
    fail(origin, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const root = asRecord(doc, origin);
  const defaults = root.defaults === undefined ? {} : asRecord(root.defaults, `${origin} defaults`);
  const defaultPlatforms = stringList(defaults.platforms, `${origin} defaults.platforms`).map((p) => withWhere(`${origin} defaults.platforms`, () => parsePlatform(p)));
  const defaultReferrers = defaults.referrers === undefined ? true : Boolean(defaults.referrers);
  if (!Array.isArray(root.images) || root.images.length === 0) fail(origin, 'needs a non-empty images list');
  const images = root.images.map((entry: unknown, i: number): SpecImage => {
    const where = `${origin} images[${i}]`;
    const item = typeof entry === 'string' ? { ref: entry } : asRecord(entry, where);
    if (typeof item.ref !== 'string') fail(where, 'needs ref: REGISTRY/REPOSITORY[:TAG][@DIGEST]');
    const ref = item.ref;
    const image: SpecImage = {
      reference: withWhere(where, () => parseReference(ref)),
      platforms: item.platforms === undefined ? defaultPlatforms : stringList(item.platforms, `${where}.platforms`).map((p) => withWhere(where, () => parsePlatform(p))),
      withReferrers: item.referrers === undefined ? defaultReferrers : Boolean(item.referrers),
    };
    if (item.tags !== undefined) {
      if (typeof item.tags !== 'string') fail(`${where}.tags`, 'must be a regular expression string');
      const pattern = item.tags;
      image.tagPattern = withWhere(`${where}.tags`, () => new RegExp(pattern));
    }
    return image;
  });
  const retag = (Array.isArray(root.retag) ? root.retag : root.retag === undefined ? [] : fail(origin, 'retag must be a list')).map((r: unknown, i: number) => {
    if (typeof r === 'string') return withWhere(`${origin} retag[${i}]`, () => parseRetagRule(r));
    const rule = asRecord(r, `${origin} retag[${i}]`);
    if (typeof rule.from !== 'string' || typeof rule.to !== 'string') fail(`${origin} retag[${i}]`, 'needs from and to');
    return { from: rule.from, to: rule.to };
  });
  const metadata = root.metadata === undefined ? {} : asRecord(root.metadata, `${origin} metadata`);
  return { name: typeof metadata.name === 'string' ? metadata.name : origin, images, retag, policy: parseSpecPolicy(root.policy, origin) };
}
