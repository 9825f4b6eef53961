import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { BundleEntry, HEAD_ORDER, digestOfBlobEntry, isToolEntry, type HeadEntryName } from './format.js';

// The reader's allow-list (design §4, anti-pattern 12). Every tar entry passes
// through `check` before a byte of it is read: regular files only, no directory
// entries at all (the writer emits none, and neither skopeo, containerd nor
// `tar -x` needs them), exact names, each once, the head in its fixed order
// and complete before the first blob.

export interface TarHeaderLike {
  name: string;
  type?: string | null;
  linkname?: string | null;
}

export type CheckedEntry = { kind: 'head'; name: HeadEntryName } | { kind: 'blob'; name: string; digest: Digest } | { kind: 'tool'; name: string };

const HEAD_NAMES = new Set<string>(HEAD_ORDER);
const LAST_HEAD = HEAD_ORDER.length - 1;

/** An entry name made safe for a one-line message: control characters escaped, length capped. */
export function quoteEntryName(name: string): string {
  const safe = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name).slice(1, -1);
  return `'${safe}'`;
}

function refuse(name: string, why: string): IntegrityError {
  return new IntegrityError(`bundle entry ${quoteEntryName(name)} ${why}`, { code: ErrorCode.bundleInvalid, subject: name });
}

const TYPE_WORDS: Record<string, string> = {
  link: 'is a hard link',
  symlink: 'is a symbolic link',
  'character-device': 'is a character device',
  'block-device': 'is a block device',
  directory: 'is a directory',
  fifo: 'is a FIFO',
  'contiguous-file': 'is a contiguous file',
};

function checkType(header: TarHeaderLike): void {
  const type = header.type ?? 'unknown';
  if (type === 'file') return;
  const what = TYPE_WORDS[type] ?? `has unsupported tar type '${type}'`;
  const target = header.linkname ? ` (-> ${quoteEntryName(header.linkname)})` : '';
  throw refuse(header.name, `${what}${target}: a bundle holds regular files only`);
}

function checkPath(name: string): void {
  if (name.length === 0) throw refuse(name, 'has an empty name');
  if (name.startsWith('/')) throw refuse(name, 'has an absolute path');
  const parts = name.split('/');
  if (parts.includes('..')) throw refuse(name, "escapes the bundle with '..'");
  if (/[\\\0]/.test(name) || parts.some((p) => p === '' || p === '.')) throw refuse(name, 'is not a plain relative path');
}

export class EntryPolicy {
  private readonly seen = new Set<string>();
  /** Index in HEAD_ORDER of the last head entry accepted; -1 before the first. */
  private headAt = -1;
  private blobSeen = false;

  /** True once ferry/SHA256SUMS, the last head entry, has been accepted. */
  get headComplete(): boolean {
    return this.headAt === LAST_HEAD;
  }

  check(header: TarHeaderLike): CheckedEntry {
    const { name } = header;
    checkType(header);
    checkPath(name);
    const digest = digestOfBlobEntry(name);
    const tool = !digest && isToolEntry(name);
    if (!digest && !tool && !HEAD_NAMES.has(name)) throw refuse(name, 'is not part of a ferry bundle (unknown name)');
    if (this.seen.has(name)) throw refuse(name, 'appears twice');
    this.seen.add(name);
    // A carried ferry release (ferry/tool/…) sits between the head and the first blob.
    if (tool) {
      if (!this.headComplete) throw refuse(name, `comes before ${this.nextRequired()}: a carried ferry release follows the head`);
      if (this.blobSeen) throw refuse(name, 'comes after a blob: a carried ferry release precedes the blobs');
      return { kind: 'tool', name };
    }
    if (digest) {
      if (!this.headComplete) throw refuse(name, `comes before ${this.nextRequired()}: metadata must precede blobs`);
      this.blobSeen = true;
      return { kind: 'blob', name, digest };
    }
    const at = HEAD_ORDER.indexOf(name as HeadEntryName);
    // Only the signature may be skipped; everything else must come exactly in turn.
    const skipped = HEAD_ORDER.slice(this.headAt + 1, at).filter((n) => n !== BundleEntry.signature);
    if (at < this.headAt || skipped.length > 0) {
      throw refuse(name, `is out of order: expected ${quoteEntryName(skipped[0] ?? this.nextRequired())} first`);
    }
    this.headAt = at;
    return { kind: 'head', name: name as HeadEntryName };
  }

  /** The next required head entry, for messages (the signature is optional). */
  nextRequired(): string {
    return HEAD_ORDER.slice(this.headAt + 1).find((n) => n !== BundleEntry.signature) ?? 'the blobs';
  }
}
