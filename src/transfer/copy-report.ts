import type { Descriptor } from '../core/descriptor.js';
import type { NodeAction } from './events.js';

/** What one copyGraph call did, node by node. */
export interface CopyReport {
  copied: number;
  skipped: number;
  mounted: number;
  /** Bytes that moved over the wire (resumed bytes are not counted twice). */
  bytesTransferred: number;
  nodes: Array<{ digest: Descriptor['digest']; mediaType: string; size: number; action: NodeAction }>;
}

export function emptyReport(): CopyReport {
  return { copied: 0, skipped: 0, mounted: 0, bytesTransferred: 0, nodes: [] };
}

export function recordNode(report: CopyReport, desc: Descriptor, action: NodeAction, bytes: number): void {
  report[action] += 1;
  report.bytesTransferred += bytes;
  report.nodes.push({ digest: desc.digest, mediaType: desc.mediaType, size: desc.size, action });
}
