import { readFileSync } from 'node:fs';

// The commands of docs/far-side.md, read from the page itself so the page and
// the test cannot drift: every fenced block tagged `sh far-side` runs in every
// scenario, `sh far-side <scenario>` only in that one, in page order. Each
// logical line (backslash continuations joined) is one command; the script
// prints `STEP <seconds.nanoseconds> <command>` before each and `STEP … END`
// last, so the test sees that every command ran, in order, and how long each took.

export interface DocBlock {
  scenario: string | undefined;
  lines: string[];
}

export function docBlocks(path: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  let open: DocBlock | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push(open);
        open = undefined;
      } else {
        open.lines.push(line);
      }
      continue;
    }
    const fence = /^```sh far-side(?: (\S+))?\s*$/.exec(line);
    if (fence) open = { scenario: fence[1], lines: [] };
  }
  return blocks;
}

/** The commands of `scenario`, in page order. */
export function docCommands(path: string, scenario: string): string[] {
  const commands: string[] = [];
  for (const block of docBlocks(path).filter((b) => b.scenario === undefined || b.scenario === scenario)) {
    let pending = '';
    for (const line of block.lines) {
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1)} `;
        continue;
      }
      const command = (pending + line).trim();
      pending = '';
      if (command !== '' && !command.startsWith('#')) commands.push(command);
    }
  }
  return commands;
}

function quoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A POSIX sh script (run with `sh -e`) that runs the commands, marking each. */
export function stepScript(commands: readonly string[]): string {
  const step = (what: string) => `printf 'STEP %s %s\\n' "$(date +%s.%N)" ${quoted(what)}`;
  return [...commands.flatMap((c) => [step(c), c]), step('END'), ''].join('\n');
}

export interface Step {
  at: number;
  command: string;
}

export function parseSteps(output: string): Step[] {
  return [...output.matchAll(/^STEP (\d+\.\d+) (.*)$/gm)].map((m) => ({ at: Number(m[1]), command: m[2] as string }));
}
