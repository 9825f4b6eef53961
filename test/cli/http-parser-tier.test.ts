import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FERRY_BIN } from '../helpers/ferry-cli.js';
import { registryFlags } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// undici's HTTP parser is WebAssembly; V8 recompiled its hot parser function with TurboFan on a
// background thread (~100 ms) and node waited for it before exiting. The CLI keeps the parser
// on the baseline compile (cli/http-parser-tier.ts). V8's own trace of wasm compiles shows it:
// the registry client used as a library still tiers up after one request, the CLI never.

const run = promisify(execFile);
const TRACE = '--trace-wasm-compilation-times';
const TURBOFAN = /^Compiled function .* using TurboFan/m;
const CLIENT = new URL('../../dist/registry/client/index.js', import.meta.url).href;

describe.skipIf(!rigContext().available)('the CLI keeps undici\'s parser off TurboFan', () => {
  it('a library client tiers the parser up after one request; ferry ls of the same registry does not', async () => {
    const { source } = seededRig();
    const library = `const { createRegistryClient } = await import(${JSON.stringify(CLIENT)});
      const client = createRegistryClient({ registry: ${JSON.stringify(source.host)}, plainHttp: true });
      await client.checkCredentials();
      await client.close();`;
    const probe = await run(process.execPath, [TRACE, '--input-type=module', '-e', library], { cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    // The probe sees a tier-up where there is one: without it this test would prove nothing.
    expect(probe.stdout).toMatch(TURBOFAN);

    const cli = await run(process.execPath, [TRACE, FERRY_BIN, 'ls', source.host, ...registryFlags(source)], { env: { ...process.env, FERRY_STORE: '' } });
    expect(cli.stdout).toMatch(/^Compiled function .* using Liftoff/m);
    expect(cli.stdout.split('\n').filter((l) => !l.startsWith('Compiled ')).join('\n')).toMatch(/\S/);
    expect(cli.stdout).not.toMatch(TURBOFAN);
  });
});
