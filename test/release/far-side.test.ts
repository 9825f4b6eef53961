import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry } from '../helpers/ferry-cli.js';
import { expectOk, sourceRefs, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';
import { IMAGE_KEYS } from '../rig/image-set.js';
import { registryConfigYaml } from '../rig/registry-config.js';
import { docCommands, parseSteps, stepScript, type Step } from './doc-commands.js';
import { farMachineUnavailable, runFarMachine } from './namespace.js';
import { checkoutRelease, REPO_ROOT } from './release-kit.js';

// The proof of docs/far-side.md on a machine with nothing installed: the
// release is built, a signed bundle exported --with-ferry (one file, and
// volumes), and then, in a namespace where node, npm, npx and every
// node_modules are hidden, PATH is /usr/bin:/bin and the network is loopback
// only, every command of the page runs in order — take the tool off the stick
// with tar, check it with openssl and sha256sum, unpack it, ferry verify,
// import --to-store, serve, import into a docker-registry — and every image
// is read back from ferry serve and from the registry, its digest checked.
// Anything reaching for a node outside the release, or for the network, fails.

const DOC = join(REPO_ROOT, 'docs', 'far-side.md');
const unavailable = farMachineUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`the far-side test needs root and namespaces, and CI=true must not skip: ${unavailable}`);

interface Scenario {
  name: 'file' | 'volumes';
  stick: string;
}

describe.skipIf(!rigContext().available || unavailable !== undefined)('docs/far-side.md on a machine with nothing installed', () => {
  let work: WorkDir;
  let release: string;
  const log: string[] = [];

  beforeAll(async () => {
    const rig = seededRig();
    work = await workDir('ferry-far-side-');
    release = await checkoutRelease();
    expectOk(await ferry(['keygen', '-o', work.path('site')]));
    const base = [...sourceRefs(rig), '--sign', work.path('site.key'), '--with-ferry', release, '--plain-http', '--store', work.path('store')];
    await mkdir(work.path('stick-file'));
    await mkdir(work.path('stick-volumes'));
    expectOk(await ferry(['export', ...base, '-o', work.path('stick-file', 'images.tar')]));
    // Too small a --split for volume 0 is refused before writing, with the size that works.
    const refused = await ferry(['export', ...base, '-o', work.path('stick-volumes', 'images.tar'), '--split', '1M']);
    expect(refused.code, refused.stderr).toBe(2);
    const smallest = /use --split (\d+) or more/.exec(refused.stderr)?.[1];
    expect(smallest, refused.stderr).toBeDefined();
    expectOk(await ferry(['export', ...base, '-o', work.path('stick-volumes', 'images.tar'), '--split', String(smallest)]));
  }, 300_000);

  afterAll(async () => {
    console.log(log.join('\n'));
    await work?.cleanup();
  });

  /** Store names (ferry serve) and registry names of the rig's tagged images, with the digest each must have. */
  function expected(): Array<{ serve: string; registry: string; digest: string | undefined }> {
    const rig = seededRig();
    const storeHost = rig.source.host.replace(':', '_');
    return IMAGE_KEYS.map((k) => {
      const image = rig.images.images[k];
      // Windows: import localizes its foreign layer, so its manifest (and digest) is new on arrival.
      return { serve: `127.0.0.1:5000/${storeHost}/${image.reference}`, registry: `127.0.0.1:5001/mirror/${image.reference}`, digest: k === 'windows' ? undefined : image.digest };
    });
  }

  function arrivalScript(dir: string): string {
    const lines = ['i=0', 'until curl -s -o /dev/null http://127.0.0.1:5000/v2/; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done'];
    let n = 0;
    for (const e of expected()) {
      for (const [where, ref] of [['serve', e.serve], ['registry', e.registry]] as const) {
        n += 1;
        lines.push(
          `skopeo inspect --raw --tls-verify=false "docker://${ref}" > "${dir}/manifest-${n}"`,
          `echo "DIGEST ${where} ${ref} sha256:$(sha256sum < "${dir}/manifest-${n}" | cut -c1-64)"`,
          // skopeo checks every blob's digest as it copies.
          `skopeo --insecure-policy copy --all --quiet --src-tls-verify=false "docker://${ref}" "oci:${dir}/arrived:${n}"`,
          `echo "COPIED ${where} ${ref}"`,
        );
      }
    }
    lines.push(`strace -f -qq -e trace=execve -o "${dir}/execve" env -i HOME="$WORK/home" PATH=/usr/bin:/bin "$WORK/home/ferry/bin/ferry" --version > /dev/null`);
    lines.push(`sed -n 's/^[0-9]* *execve("\\([^"]*\\)".*= \\(-\\{0,1\\}[0-9]*\\).*$/EXEC \\1 \\2/p' "${dir}/execve"`);
    return `${lines.join('\n')}\n`;
  }

  async function farSide(scenario: Scenario): Promise<{ output: string; steps: Step[] }> {
    const dir = work.path(`far-${scenario.name}`);
    await mkdir(join(dir, 'home'), { recursive: true });
    await mkdir(join(dir, 'registry'));
    await copyFile(work.path('site.pub'), join(dir, 'home', 'site.pub'));
    await writeFile(join(dir, 'far-side.sh'), stepScript(docCommands(DOC, scenario.name)));
    await writeFile(join(dir, 'after.sh'), arrivalScript(dir));
    await writeFile(join(dir, 'registry.yml'), registryConfigYaml({ port: 5001, storageDir: join(dir, 'registry') }));
    const result = await runFarMachine(
      {
        work: dir,
        stick: scenario.stick,
        registryConfig: join(dir, 'registry.yml'),
        script: join(dir, 'far-side.sh'),
        after: join(dir, 'after.sh'),
        hideDirs: [join(REPO_ROOT, 'node_modules'), join(REPO_ROOT, 'dist')],
      },
      240_000,
    );
    const output = `${result.stdout}${result.stderr ? `\n[stderr]\n${result.stderr}` : ''}`;
    log.push(`──── far side, bundle as ${scenario.name} ────`, output);
    expect(result.code, output).toBe(0);
    return { output, steps: parseSteps(result.stdout) };
  }

  function checkRun(name: Scenario['name'], { output, steps }: { output: string; steps: Step[] }): void {
    // Every command of the page ran, in order, to the end.
    expect(steps.map((s) => s.command)).toEqual([...docCommands(DOC, name), 'END']);
    for (const hidden of ['node', 'npm', 'npx']) expect(output).toContain(`CHECK ${hidden}: does not run`);
    expect(output).toMatch(/^HIDDEN .*node_modules\/ \(an empty directory\)$/m);
    expect(output).toMatch(/^NETWORK lo $/m);
    expect(output).toContain('Signature Verified Successfully');
    expect(output).toContain('ferry/SHA256SUMS: OK');
    expect(output).toMatch(/^ferry\/tool\/ferry-[^ ]+-linux-x64\.tar\.gz: OK$/m);

    // Every image read back from ferry serve and from the registry, digests checked on arrival.
    const digests = [...output.matchAll(/^DIGEST (serve|registry) (\S+) (sha256:[0-9a-f]{64})$/gm)].map((m) => ({ where: m[1], ref: m[2], digest: m[3] }));
    for (const e of expected()) {
      for (const [where, ref] of [['serve', e.serve], ['registry', e.registry]] as const) {
        const got = digests.find((d) => d.where === where && d.ref === ref);
        expect(got, `${where} ${ref}`).toBeDefined();
        if (e.digest) expect(got?.digest, `${where} ${ref}`).toBe(e.digest);
        expect(output).toContain(`COPIED ${where} ${ref}`);
      }
    }

    // Only the release's node ran: the launcher, the tools it uses, and <HOME>/ferry/node/bin/node.
    const execs = [...output.matchAll(/^EXEC (\S+) (-?\d+)$/gm)].map((m) => ({ path: m[1] as string, result: Number(m[2]) }));
    const nodes = execs.filter((e) => /(^|\/)node$/.test(e.path));
    expect(nodes.length, output).toBeGreaterThan(0);
    for (const n of nodes) expect(n.path).toMatch(/\/home\/ferry\/node\/bin\/node$/);
    expect(execs.filter((e) => e.result === 0).map((e) => e.path.split('/').pop())).toEqual(['env', 'ferry', 'dirname', 'node']);
  }

  function timeToFirstImport(steps: Step[]): number {
    const start = steps.find((s) => /^tar -x/.test(s.command));
    const at = steps.findIndex((s) => /\bferry import\b/.test(s.command));
    const end = steps[at + 1];
    if (!start || !end) throw new Error('no tar -x or ferry import step');
    return end.at - start.at;
  }

  it('one file: every command of the page runs, with nothing installed, and every image arrives', async () => {
    const run = await farSide({ name: 'file', stick: work.path('stick-file') });
    checkRun('file', run);
    log.push(`time from the first tar -x of the stick to the first ferry import finishing (bundle in one file): ${timeToFirstImport(run.steps).toFixed(1)} s`);
  });

  it('volumes: the same from volume 0 (and cat of the volumes into tar)', async () => {
    const run = await farSide({ name: 'volumes', stick: work.path('stick-volumes') });
    checkRun('volumes', run);
    log.push(`time from the first tar -x of the stick to the first ferry import finishing (volumes): ${timeToFirstImport(run.steps).toFixed(1)} s`);
  });
});
