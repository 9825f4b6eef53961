// Reads a V8 .cpuprofile (node --cpu-prof) and prints the functions with the
// most self time, and the share of idle/GC/program time: the evidence for
// what limits a ferry run. Usage: node bench/profile-top.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, topArg, callersOf] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-top.mjs FILE.cpuprofile [N] [FUNCTION: show who calls it]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
}
const total = deltas.reduce((a, b) => a + b, 0);
const agg = new Map();
for (const [id, us] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const where = cf.url ? `${cf.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
  agg.set(key, (agg.get(key) ?? 0) + us);
}
const rows = [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
process.stdout.write(`total ${(total / 1000).toFixed(0)} ms sampled\n`);
for (const [key, us] of rows) process.stdout.write(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`);

// With a function name: the call stacks (3 frames up) that spent self time in it.
if (callersOf) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frame = (n) => `${n.callFrame.functionName || '(anonymous)'}@${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const stacks = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (n.callFrame.functionName !== callersOf) continue;
    const chain = [];
    for (let p = parent.get(id), i = 0; p !== undefined && i < 4; p = parent.get(p), i++) chain.push(frame(byId.get(p)));
    const key = chain.join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  process.stdout.write(`\ncallers of ${callersOf}:\n`);
  for (const [key, us] of [...stacks.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) process.stdout.write(`${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
}
