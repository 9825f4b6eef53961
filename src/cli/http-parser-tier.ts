import { setFlagsFromString } from 'node:v8';

// undici parses HTTP with llhttp compiled to WebAssembly. After a response or two, V8 finds
// llhttp's parser function hot and recompiles it with TurboFan on a background thread:
// 107 ms and 29 MB for that one function here (--trace-wasm-compilation-times), and node
// waits for the compile before it exits: 148 of the 240 ms sampled in a `ferry ls` of one
// repository were idle, waiting on it (338 → 179 ms wall with this, paired; docs/performance.md).
// A CLI process is short, and its parsing is small next to the bytes it moves: the parser stays
// on V8's baseline compile (Liftoff). Not by a tiering budget it would never spend: a 2 GiB
// layer spends the largest one half-way, and the same compile then lifted the pull's peak RSS
// from ~115 to ~135 MiB.
// Liftoff-only refuses what Liftoff cannot compile (SIMD on a CPU without SSE4.1): undici then
// takes its plain llhttp build, as it does wherever WebAssembly SIMD is missing.
// The flag is process-wide, so the CLI sets it, not the registry client a library embeds;
// before its first client, since the parser is compiled when the first connection opens.

let kept = false;

/** Keeps undici's HTTP parser off V8's optimizing compiler for the rest of this process. */
export function keepHttpParserBaseline(): void {
  if (kept) return;
  kept = true;
  setFlagsFromString('--liftoff-only');
}
