import { availableParallelism } from 'node:os';
import { ExitCode } from '../../core/errors.js';
import type { CorruptBlob, StoreVerifyReport } from '../../store/index.js';
import type { CommandContext, GlobalArgs } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { formatBytes } from '../output.js';
import { progressReporter } from '../progress-bars.js';

// `ferry store verify [--repair]`: every blob re-hashed on every core, every tag
// checked for complete content, every ingest owned, resumable or removable.
// Exit 5 while something is corrupt or incomplete and not repaired.

/** `127.0.0.1_5000/team/app` → `127.0.0.1:5000/team/app`: the reference an export of it would take. */
function upstreamOf(repository: string, tag: string): string {
  const slash = repository.indexOf('/');
  return `${repository.slice(0, slash).replaceAll('_', ':')}${repository.slice(slash)}:${tag}`;
}

function problemLine(c: CorruptBlob): string {
  switch (c.problem) {
    case 'digest':
      return `corrupt blob ${c.digest}: its bytes hash to ${c.actual ?? 'something else'}`;
    case 'size':
      return `corrupt blob ${c.digest}: ${c.actual ?? 'a different number of'} bytes on disk, ${c.size} expected`;
    case 'missing':
      return `missing blob ${c.digest}: its file is gone`;
    case 'unreadable':
      return `unreadable blob ${c.digest}: ${c.message}`;
  }
}

function describe(report: StoreVerifyReport, threads: number): string {
  const { blobs, tags, ingests } = report;
  const lines = [`checked ${blobs.checked} blobs (${formatBytes(blobs.bytes)}) on ${threads} threads and ${tags.checked} tags: ${!report.ok ? 'problems found' : report.repair && (blobs.corrupt.length > 0 || report.unlinked.length > 0) ? 'repaired' : 'OK'}`];
  for (const c of blobs.corrupt) lines.push(`  ${problemLine(c)}${c.removed ? ': removed' : ''}`);
  for (const t of tags.removed) lines.push(`  tag ${t.repository}:${t.tag} removed: its manifest ${t.digest} was corrupt`);
  for (const t of tags.incomplete) {
    const what = t.missing.length > 0 ? `missing ${t.missing.slice(0, 3).join(', ')}${t.missing.length > 3 ? ` and ${t.missing.length - 3} more` : ''}` : 'incomplete';
    lines.push(`  tag ${t.repository}:${t.tag} does not reach complete content (${what}); ferry export ${upstreamOf(t.repository, t.tag)} fetches it again`);
  }
  if (report.unlinked.length > 0) lines.push(`  unlinked ${report.unlinked.length} manifests whose content is no longer all there`);
  if (blobs.orphanFiles > 0) lines.push(`  ${blobs.orphanFiles} files in blobs/ have no index row (left by a crash): ferry store gc removes them`);
  for (const p of report.index) lines.push(`  index.db: ${p}`);
  if (report.index.length > 0) lines.push('  index.db is damaged: repair cannot mend it; move the store aside and export again');
  lines.push(
    `ingests: ${ingests.total} (${ingests.owned} in use, ${ingests.resumable} resumable, ${ingests.removable} abandoned${report.repair ? `: ${ingests.removed} removed` : ''}), ${ingests.strays} stray files or rows${report.repair ? ' removed' : ''}`,
  );
  if (!report.ok && !report.repair && (blobs.corrupt.length > 0 || tags.incomplete.length > 0)) {
    lines.push('run ferry store verify --repair to drop what is corrupt, then export again to fetch it');
  }
  return lines.join('\n');
}

export async function storeVerify(args: GlobalArgs & { repair: boolean }, ctx: CommandContext): Promise<number | void> {
  const threads = availableParallelism();
  const store = await openStoreFromArgs(args, { readOnly: !args.repair });
  const progress = progressReporter(ctx, 'store verify');
  try {
    const report = await store.verify({ repair: args.repair, threads, signal: ctx.signal, onEvent: progress.sink });
    progress.done();
    ctx.out.result(report, () => describe(report, threads));
    return report.ok ? undefined : ExitCode.integrity;
  } finally {
    progress.done();
    await store.close();
  }
}
