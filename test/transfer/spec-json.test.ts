import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/transfer/spec.js';

// A spec written as JSON is read by JSON.parse (the YAML parser costs ~70 ms
// to load); JSON is YAML, so the answer must be the YAML parser's: the same
// spec, and the same refusal of a key given twice, which JSON.parse alone
// would read as the last one.

const yamlSpec = `defaults:\n  platforms: [linux/amd64]\nimages:\n  - ref: "registry.example/app:1"\n    tags: "^v\\\\d+\\"?$"\n  - registry.example/db:2\nmetadata:\n  name: "a \\"quoted\\" name, {not: a key}"\n`;
const jsonSpec = JSON.stringify({
  defaults: { platforms: ['linux/amd64'] },
  images: [{ ref: 'registry.example/app:1', tags: '^v\\d+"?$' }, 'registry.example/db:2'],
  metadata: { name: 'a "quoted" name, {not: a key}' },
});

describe('a spec written as JSON', () => {
  it('reads as the same spec written as YAML', () => {
    expect(parseSpec(jsonSpec, 'spec.json')).toEqual(parseSpec(yamlSpec, 'spec.json'));
  });

  it('refuses a key given twice, at the top or inside, as YAML does', () => {
    const top = `{"images": ["registry.example/a:1"], "images": ["registry.example/b:1"]}`;
    const inner = `{"images": [{"ref": "registry.example/a:1", "ref": "registry.example/b:1"}]}`;
    const escaped = `{"images": ["registry.example/a:1"], "metadata": {"n\\u0061me": "x", "name": "y"}}`;
    for (const text of [top, inner, escaped]) expect(() => parseSpec(text, 'spec.json')).toThrow(/^spec spec\.json: not valid YAML: .*unique/);
  });

  it('does not take one key in two objects, or a string value, for a key given twice', () => {
    const text = `{"images": [{"ref": "registry.example/a:1"}, {"ref": "registry.example/b:1", "tags": "ref"}], "metadata": {"name": "ref"}}`;
    expect(parseSpec(text, 'spec.json').images.map((i) => i.reference.repository)).toEqual(['a', 'b']);
  });
});
