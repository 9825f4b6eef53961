import { setFlagsFromString } from 'node:v8';

// undici parses HTTP with llhttp compiled to WebAssembly. After a response or two, V8 finds
// llhttp's parser function hot and recompiles it with TurboFan on a background thread:
// 107 ms and 29 MB for that one function here (--trace-wasm-compilation-times), and node
// waits for the compile before it exits, so `ferry ls` of one repository took ~100 ms more
// than its work (384 → 282 ms wall, docs/performance.md). A CLI process is short, and its
// parsing is small next to the bytes it moves (a body is skipped by its length, not scanned):
// the parser stays on V8's baseline compile (Liftoff) by a tiering budget it never spends.
// The flag is process-wide, so the CLI sets it, not the registry client a library embeds;
// before its first client, since a module's budget is fixed when the module is compiled.

/** V8's largest budget (an int): 1,193 × the default of 1,800,000. */
const NEVER = 2_147_483_647;
let kept = false;

/** Keeps undici's HTTP parser off V8's optimizing compiler for the rest of this process. */
export function keepHttpParserBaseline(): void {
  if (kept) return;
  kept = true;
  setFlagsFromString(`--wasm-tiering-budget=${NEVER}`);
}
