import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { run } from '../rig/peers.js';

// Issue 13.8: `ferry copy` between two registries that need different TLS and
// credentials (skopeo's --src-*/--dest-* flags), and an untagged source said
// to be :latest, as docker says it.

describe.skipIf(!rigContext().available)('ferry copy --src-*/--dest-*', () => {
  let left: Registry;
  let right: Registry;
  beforeAll(async () => {
    // Two TLS registries, each with its own CA and its own password.
    [left, right] = await Promise.all([
      startRegistry({ tls: true, auth: 'basic', username: 'left', password: 'left-secret' }),
      startRegistry({ tls: true, auth: 'basic', username: 'right', password: 'right-secret' }),
    ]);
  });
  afterAll(async () => Promise.all([left?.stop(), right?.stop()]));

  const leftSide = (side: 'src' | 'dest') => [`--${side}-ca-cert`, left.caCertPath!, `--${side}-creds`, 'left:left-secret'];
  const rightSide = (side: 'src' | 'dest') => [`--${side}-ca-cert`, right.caCertPath!, `--${side}-creds`, 'right:right-secret'];

  it('each side gets its own CA and credentials; the shared flags stay the default for a side without them', async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    // plain-http source (the shared flag says HTTPS), TLS destination with its own CA.
    const seeded = await ferry(['copy', `${rig.source.host}/${multi.reference}`, `${left.host}/team/multi:1.0`, '--src-plain-http', ...leftSide('dest'), '--json']);
    expect(seeded.code, seeded.stderr).toBe(ExitCode.ok);
    expect(seeded.json).toMatchObject({ digest: multi.digest });

    const across = await ferry(['copy', `${left.host}/team/multi:1.0`, `${right.host}/mirror/multi:1.0`, ...leftSide('src'), ...rightSide('dest'), '--json']);
    expect(across.code, across.stderr).toBe(ExitCode.ok);
    expect(across.json).toMatchObject({ digest: multi.digest });
    const peer = await run('skopeo', ['inspect', '--raw', '--cert-dir', right.certDir!, '--creds', 'right:right-secret', `docker://${right.host}/mirror/multi:1.0`]);
    expect(peer.code, peer.stderr).toBe(0);

    // One shared CA cannot serve both: the destination's certificate is refused.
    const shared = await ferry(['copy', `${left.host}/team/multi:1.0`, `${right.host}/mirror/other:1.0`, '--ca-cert', left.caCertPath!, '--src-creds', 'left:left-secret', '--dest-creds', 'right:right-secret']);
    expect(shared.code).not.toBe(ExitCode.ok);
    expect(shared.stderr).toContain(right.host);
  });

  it('the side flags cannot differ when both sides are one registry', async () => {
    const r = await ferry(['copy', `${left.host}/team/multi:1.0`, `${left.host}/team/again:1.0`, '--src-creds', 'left:left-secret', '--dest-creds', 'left:other']);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/both on 127\.0\.0\.1:\d+: the --src-\* and --dest-\* flags cannot differ/);
  });

  it('an untagged source copies :latest and says so on stderr, as docker does', async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const tagged = await ferry(['copy', `${rig.source.host}/${multi.reference}`, `${right.host}/plain/multi:latest`, '--src-plain-http', ...rightSide('dest')]);
    expect(tagged.code, tagged.stderr).toBe(ExitCode.ok);
    expect(tagged.stderr).not.toContain('Using default tag');
    const untagged = await ferry(['copy', `${right.host}/plain/multi`, `${right.host}/plain/copied`, '--ca-cert', right.caCertPath!, '--creds', 'right:right-secret', '--json']);
    expect(untagged.code, untagged.stderr).toBe(ExitCode.ok);
    expect(untagged.stderr).toContain('Using default tag: latest');
    expect(untagged.json).toMatchObject({ source: `${right.host}/plain/multi:latest`, target: `${right.host}/plain/copied:latest` });
  });
});
