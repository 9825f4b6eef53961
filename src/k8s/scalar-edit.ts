import { Scalar, isScalar, type Node } from 'yaml';
import { InternalError } from '../core/errors.js';

// Byte-exact edits of YAML text. Re-stringifying a Document re-indents
// sequences, re-flows long lines and moves comments; splicing only the source
// range of each changed scalar keeps every other byte of the file, so the diff
// a reviewer sees is the image values and nothing else.

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** Characters an image reference may hold that are also safe in a plain scalar anywhere. */
const PLAIN_SAFE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;

/**
 * The new value written in the node's own style (plain, 'single', "double"), or
 * undefined when the node is not a scalar in one of those styles.
 */
export function scalarEdit(node: Node, value: string): TextEdit | undefined {
  if (!isScalar(node) || !node.range) return undefined;
  const [start, end] = node.range;
  let text: string;
  switch (node.type) {
    case Scalar.PLAIN:
      text = PLAIN_SAFE.test(value) && !value.includes(': ') && !value.includes(' #') ? value : JSON.stringify(value);
      break;
    case Scalar.QUOTE_DOUBLE:
      text = JSON.stringify(value);
      break;
    case Scalar.QUOTE_SINGLE:
      text = `'${value.replaceAll("'", "''")}'`;
      break;
    default:
      return undefined;
  }
  return { start, end, text };
}

/** Applies non-overlapping edits (any order) to `source`. */
export function applyEdits(source: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.start < at) throw new InternalError(`overlapping YAML edits at offset ${e.start}`);
    out += source.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + source.slice(at);
}
