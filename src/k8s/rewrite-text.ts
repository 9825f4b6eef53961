import { LineCounter, isScalar, parseAllDocuments, type Document } from 'yaml';
import { InternalError, UsageError } from '../core/errors.js';
import { mapImage, type ImageMapping } from './image-mapping.js';
import { applyEdits, scalarEdit, type TextEdit } from './scalar-edit.js';
import { imageFields, type ContainerField, type ImageField } from './workload-images.js';

// One manifest file's text → its rewritten text. Every document is parsed
// (comments, anchors and all), the image scalars are mapped, and only their
// source ranges are replaced. The result is parsed again and its image values
// compared with what was intended, so a splice can never corrupt a manifest
// unnoticed.

export interface ImageChange {
  /** 0-based index of the YAML document in the file. */
  document: number;
  kind: string;
  name: string;
  container: string;
  field: ContainerField;
  /** 1-based line of the value. */
  line: number;
  from: string;
  to: string;
  pinned: boolean;
}

export interface RewriteWarning {
  file: string;
  line: number;
  message: string;
}

export interface TextRewrite {
  text: string;
  changes: ImageChange[];
  warnings: RewriteWarning[];
}

function parse(text: string, file: string, lineCounter?: LineCounter): Document[] {
  const parsed = parseAllDocuments(text, lineCounter ? { lineCounter } : {});
  const docs = Array.isArray(parsed) ? parsed : [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line;
      throw new UsageError(`${file}${line ? `:${line}` : ''}: not valid YAML: ${error.message.split('\n')[0] ?? ''}`, {
        hint: 'render templates first (helm template …, kustomize build …) and rewrite the output',
      });
    }
  }
  return docs;
}

function imageValues(docs: readonly Document[]): string[] {
  return docs.flatMap((d) => imageFields(d).map((f) => (isScalar(f.node) ? String(f.node.value) : '')));
}

function describe(f: ImageField): string {
  return `${f.kind}${f.name ? `/${f.name}` : ''} ${f.field}${f.container ? `[${f.container}]` : ''}`;
}

export async function rewriteManifestText(text: string, file: string, mapping: ImageMapping): Promise<TextRewrite> {
  const lines = new LineCounter();
  const docs = parse(text, file, lines);
  const edits: TextEdit[] = [];
  const changes: ImageChange[] = [];
  const warnings: RewriteWarning[] = [];
  const intended = new Map<number, string>();
  let index = 0;
  for (const [document, doc] of docs.entries()) {
    for (const field of imageFields(doc)) {
      const position = index++;
      const offset = field.node.range?.[0] ?? 0;
      const line = lines.linePos(offset).line;
      const warn = (message: string) => warnings.push({ file, line, message: `${describe(field)}: ${message}` });
      if (!isScalar(field.node) || typeof field.node.value !== 'string') {
        warn('the image is not a plain string (an alias or a collection): left as is');
        continue;
      }
      const from = field.node.value;
      const mapped = await mapImage(from, mapping);
      if (mapped.action === 'skip') warn(`${mapped.reason}: left as is`);
      if (mapped.action !== 'rewrite') continue;
      if (mapped.warning) warn(mapped.warning);
      if (mapped.to === from) continue;
      const edit = scalarEdit(field.node, mapped.to);
      if (!edit) {
        warn('the image is a block scalar: left as is');
        continue;
      }
      edits.push(edit);
      intended.set(position, mapped.to);
      changes.push({ document, kind: field.kind, name: field.name, container: field.container, field: field.field, line, from, to: mapped.to, pinned: mapped.pinned });
    }
  }
  changes.sort((a, b) => a.line - b.line);
  warnings.sort((a, b) => a.line - b.line);
  if (edits.length === 0) return { text, changes, warnings };
  const result = applyEdits(text, edits);
  const before = imageValues(docs);
  const after = imageValues(parse(result, file));
  const expected = before.map((v, i) => intended.get(i) ?? v);
  if (after.length !== expected.length || after.some((v, i) => v !== expected[i])) {
    throw new InternalError(`${file}: rewriting the image values did not give the intended manifest; the file was left as is`);
  }
  return { text: result, changes, warnings };
}
