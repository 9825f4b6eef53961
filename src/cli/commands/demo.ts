import { ExitCode } from '../../core/errors.js';
import { runDemo, type DemoEvent, type DemoReport } from '../../demo/index.js';
import { defineCommand, type CommandContext } from '../command.js';
import { channel } from '../progress-channel.js';
import { retryIntoChannel } from '../retry-log.js';
import { TOOL_VERSION } from '../version.js';

// `ferry demo`: prints the round trip as a table that grows step by step (the
// library only emits events), then the verdict. Exit 0 only when every digest
// on the target registry equals the source; 5 when any differs.

const STEP_WIDTH = 17;
const TIME_WIDTH = 9;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function row(step: string, time: string, what: string): string {
  return `${step.padEnd(STEP_WIDTH)}${time.padStart(TIME_WIDTH - 2).padEnd(TIME_WIDTH)}${what}`;
}

function tableWriter(ctx: CommandContext): (event: DemoEvent) => void {
  const show = !ctx.out.json;
  let headed = false;
  return (event) => {
    if (event.type === 'transfer') {
      // Into the progress channel, where --debug's presenter hears what the push, export and import decide.
      if (event.event.type !== 'message') channel.emit(event.event);
      else if (event.event.level === 'warn') ctx.out.warn(event.event.text);
      return;
    }
    if (event.type === 'step-start') channel.emit({ type: 'debug', text: `demo step ${event.step}` });
    if (!show || event.type !== 'step-done') return;
    if (!headed) {
      headed = true;
      ctx.out.note('ferry demo: the air-gap round trip on this machine, with nothing but ferry (no internet, no docker, temp stores only)\n');
      ctx.out.note(row('STEP', 'TIME', 'WHAT'));
    }
    ctx.out.note(row(event.record.step, seconds(event.record.ms), event.record.what));
  };
}

function verdict(report: DemoReport): string {
  const lines = [row('total', seconds(report.totalMs), ''), ''];
  if (report.ok) {
    lines.push(`OK: ${report.images.length} images made the trip; on the target every manifest and blob has the source's digest:`);
  } else {
    lines.push('FAILED: the target does not hold what the source holds:');
  }
  for (const image of report.images) {
    lines.push(`  ${image.target}  ${image.targetDigest}${image.equal ? '' : `  ${image.problem ?? 'differs'}`}`);
  }
  if (report.kept) {
    const d = report.dir;
    lines.push('', `Everything is kept in ${d}. Look around:`);
    lines.push(`  ferry inspect ${d}/demo.tar`, `  ferry verify ${d}/demo.tar --key ${d}/demo.pub`, `  ferry serve --store ${d}/target-store --addr 127.0.0.1:5000`);
  } else {
    lines.push('', 'Run `ferry demo --keep DIR` to keep the bundle, keys and stores; README.md "First run" shows the real thing.');
  }
  return lines.join('\n');
}

export const demoCommand = defineCommand({
  command: 'demo',
  // One line for ferry --help; the epilogue of ferry demo --help says the rest.
  describe: 'a round trip on this machine with nothing but ferry: export → verify → import, offline',
  examples: [
    ['ferry demo', 'sample images → embedded registry → signed export → verify → import into a second embedded registry → every digest checked (no internet; temp stores, never --store)'],
    ['ferry demo --keep /tmp/ferry-demo', 'keep the bundle, keys and stores to look at'],
  ],
  docs: 'README.md',
  builder: (y) => y.option('keep', { type: 'string', describe: 'keep the bundle, keys and stores in DIR (new or empty) instead of removing them' }),
  async run(args, ctx) {
    const report = await runDemo({
      toolVersion: TOOL_VERSION,
      onEvent: tableWriter(ctx),
      onRetry: retryIntoChannel,
      signal: ctx.signal,
      ...(args.keep !== undefined ? { keep: args.keep } : {}),
    });
    ctx.out.result(report, () => verdict(report));
    return report.ok ? ExitCode.ok : ExitCode.integrity;
  },
});
