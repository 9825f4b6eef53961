import { ErrorCode, ExitCode } from '../core/errors.js';
import { countBy } from '../core/count-by.js';
import { LISTED_FAILURES } from '../core/limits.js';

// Where command results go: the one place that decides what --json and --quiet
// mean. With --json, stdout carries exactly one JSON document (with `ok`) and
// nothing else. --quiet means errors only: no result text, no notes, no
// warnings, no progress — except a listing, which is what the user asked to see.

/** One thing that failed while the rest went on (an image, a manifest). */
export interface Failure {
  subject: string;
  error?: { message: string; code?: string } | undefined;
}

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** The command's result: JSON with --json, else the human rendering (not under --quiet). */
  result(data: unknown, human: () => string): void;
  /** A result that is data the user asked to see (ls, inspect): printed under --quiet too. */
  listing(data: unknown, human: () => string): void;
  /**
   * A result with some of its parts failed: the result, then one `ferry: error:`
   * line per failure (or the error shape plus the result under --json).
   * Resolves to the exit code: 0 when nothing failed, else 7.
   */
  outcome(data: object, human: () => string, failures: readonly Failure[], of: { total: number; noun: string }): number;
  /** A note for a person (never on stdout under --json). */
  note(text: string): void;
  warn(text: string): void;
}

/** `{ ok: true, ...data }` for a plain object that does not say `ok` itself. */
function withOk(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || 'ok' in data) return data;
  return { ok: true, ...data };
}

/** `N of M images failed:`, then the first LISTED_FAILURES a line each, and the rest counted by error code. */
export function partialMessage(failures: readonly Failure[], of: { total: number; noun: string }): string {
  const lines = [`${failures.length} of ${of.total} ${of.noun} failed:`, ...failures.slice(0, LISTED_FAILURES).map((f) => `  ${f.subject}: ${f.error?.message ?? 'failed'}`)];
  const rest = failures.slice(LISTED_FAILURES);
  if (rest.length > 0) {
    const byCode = countBy(rest, (f) => f.error?.code ?? 'failed');
    lines.push(`  and ${rest.length} more (${[...byCode].map(([code, n]) => `${n}: ${code}`).join(', ')}): --json lists every one`);
  }
  return lines.join('\n');
}

const PARTIAL_HINT = 'fix the causes above and rerun the same command: what was done is skipped';

export function createOutput(options: { json: boolean; quiet: boolean }, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  const print = (data: unknown, human: () => string): void => {
    if (options.json) stdout.write(`${JSON.stringify(withOk(data), null, 2)}\n`);
    else {
      const text = human();
      if (text) stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  };
  const out: Output = {
    json: options.json,
    quiet: options.quiet,
    result(data, human) {
      if (options.json || !options.quiet) print(data, human);
    },
    listing: print,
    outcome(data, human, failures, of) {
      if (failures.length === 0) {
        out.result(data, human);
        return ExitCode.ok;
      }
      const message = partialMessage(failures, of);
      if (options.json) {
        const error = { code: ErrorCode.partial, message, hint: PARTIAL_HINT, exitCode: ExitCode.partial };
        stdout.write(`${JSON.stringify({ ok: false, error, ...data }, null, 2)}\n`);
      } else if (!options.quiet) print(data, human);
      for (const line of message.split('\n')) stderr.write(`ferry: error: ${line}\n`);
      stderr.write(`  hint: ${PARTIAL_HINT}\n`);
      return ExitCode.partial;
    },
    note(text) {
      if (!options.quiet) (options.json ? stderr : stdout).write(`${text}\n`);
    },
    warn(text) {
      if (!options.quiet) stderr.write(`ferry: warning: ${text}\n`);
    },
  };
  return out;
}

export { formatBytes } from '../core/format-bytes.js';

/** The width tables must fit: the terminal's, $COLUMNS, else unbounded (a pipe does not wrap). */
export function outputWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : Number.POSITIVE_INFINITY;
}

/** Words of `text` in lines of at most `width` (a longer word keeps its own line). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Fewer columns than this for a free-text last column, and the table turns into blocks instead. */
const MIN_TEXT_COLUMN = 30;

/**
 * A plain text table with padded columns that fits `width`: a free-text last
 * column (`wrapLast`, e.g. doctor's DETAIL) wraps within its column; otherwise
 * (digests, references) one record per block (`KEY: value` lines, a blank line
 * between), so nothing is cut mid-digest by the terminal.
 */
export function formatTable(header: string[], rows: string[][], width: number = outputWidth(), options: { wrapLast?: boolean } = {}): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const lines = [line(header), ...rows.map(line)];
  if (lines.every((l) => l.length <= width)) return lines.join('\n');
  const indent = widths.slice(0, -1).reduce((n, w) => n + w + 2, 0);
  if (options.wrapLast && width - indent >= MIN_TEXT_COLUMN) {
    const wrapped = rows.flatMap((r) => {
      const [first = '', ...rest] = wrapWords(r.at(-1) ?? '', width - indent);
      return [line([...r.slice(0, -1), first]), ...rest.map((l) => `${' '.repeat(indent)}${l}`)];
    });
    return [line(header), ...wrapped].join('\n');
  }
  const keyWidth = Math.max(...header.map((h) => h.length)) + 1;
  return rows.map((r) => header.map((h, i) => `${`${h}:`.padEnd(keyWidth)} ${r[i] ?? ''}`).join('\n')).join('\n\n');
}
