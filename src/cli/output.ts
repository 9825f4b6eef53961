// Where command results go. With --json, stdout carries exactly one JSON document
// and nothing else; human text goes to stdout otherwise, and notes to stderr
// unless --quiet.

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** The command's result: JSON with --json, else the human rendering. */
  result(data: unknown, human: () => string): void;
  /** A note for a person (never on stdout under --json). */
  note(text: string): void;
  warn(text: string): void;
}

export function createOutput(options: { json: boolean; quiet: boolean }, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json: options.json,
    quiet: options.quiet,
    result(data, human) {
      if (options.json) stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else {
        const text = human();
        if (text) stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
    },
    note(text) {
      if (!options.quiet) (options.json ? stderr : stdout).write(`${text}\n`);
    },
    warn(text) {
      stderr.write(`ferry: warning: ${text}\n`);
    },
  };
}

export { formatBytes } from '../core/format-bytes.js';

/** A plain text table with padded columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
