// The serve measure's second client: the same pulls as puller.mjs (N pullers,
// each GETs every manifest and blob of the list once, from its own place in
// it, bytes discarded), made by N curl processes, each over one keep-alive
// connection. node:http's one thread takes ~1 core to receive ~1.2 GiB/s here,
// so with puller.mjs the client, not the server, can set the pace; curl spends
// a fraction of that per byte. Prints { bytes, ms, requests } as JSON, like puller.mjs.
// Usage: node puller-curl.mjs BASE_URL PULLERS LIST.json
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curlConfigText } from './curl-config.mjs';

const [base, pullersArg, listFile] = process.argv.slice(2);
const pullers = Number(pullersArg);
const list = JSON.parse(readFileSync(listFile, 'utf8')); // [{ path, accept? }]
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-curl-'));

/** A curl config that GETs the list once from position `from` on, each response to /dev/null. */
function config(from) {
  const items = list.map((_, i) => list[(i + from) % list.length]);
  return curlConfigText(items.map((item) => ({ url: `${base}${item.path}`, output: '/dev/null', accept: item.accept, lines: ['write-out = "%{http_code} %{size_download}\\n"'] })));
}

function run(file) {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['--silent', '--show-error', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}: ${err.slice(0, 300)}`))));
  });
}

try {
  const files = Array.from({ length: pullers }, (_, p) => {
    const file = join(dir, `puller-${p}.conf`);
    writeFileSync(file, config(Math.floor((p * list.length) / pullers)));
    return file;
  });
  const started = performance.now();
  const outputs = await Promise.all(files.map(run));
  const ms = performance.now() - started;
  let bytes = 0;
  let requests = 0;
  for (const line of outputs.join('').trim().split('\n')) {
    const [code, size] = line.split(' ');
    if (code !== '200') throw new Error(`a GET answered HTTP ${code}`);
    bytes += Number(size);
    requests += 1;
  }
  process.stdout.write(`${JSON.stringify({ bytes, ms, requests })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
