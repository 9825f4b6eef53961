import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { login, logout } from '../../transfer/site/login.js';
import { defineCommand, type GlobalArgs } from '../command.js';
import { clientOptionsFrom, withRegistryFlags, type RegistryArgs } from '../registry-flags.js';

// `ferry login REGISTRY --username U --password-stdin` and `ferry logout
// REGISTRY`: the auths entry docker and podman write (or their credential
// helper's store), checked against the registry before it is stored. The
// password is read from standard input only, never from the command line.

interface LoginArgs extends RegistryArgs, GlobalArgs {
  registry: string;
  username?: string;
  'password-stdin': boolean;
}

const MAX_PASSWORD = 64 * 1024;

async function passwordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from a pipe: echo "$PASSWORD" | ferry login HOST --username USER --password-stdin');
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > MAX_PASSWORD) throw new UsageError('the password on standard input is longer than 64 KiB');
  }
  // One trailing newline (from echo) is not part of the password, as in docker login.
  return text.replace(/\r?\n$/, '');
}

export const loginCommand = defineCommand<LoginArgs>({
  command: 'login <registry>',
  describe: 'check credentials against a registry and store them where docker, podman, skopeo and ferry look',
  examples: [
    ['echo "$PASSWORD" | ferry login registry.site.example:5000 -u ci --password-stdin', 'check and store credentials'],
    ['ferry login registry.site.example:5000 -u ci --password-stdin --authfile auth.json < pw.txt', 'into a chosen auth file'],
  ],
  docs: 'docs/site-registry.md',
  builder: (y) =>
    withRegistryFlags(y)
      .positional('registry', { type: 'string', demandOption: true, describe: 'HOST[:PORT] (the login server, stored in lowercase)' })
      .option('username', { alias: 'u', type: 'string', describe: 'the user (ACR: admin user, token name or service principal id)' })
      .option('password-stdin', { type: 'boolean', default: false, describe: 'read the password from standard input (required: never put it on the command line)' }) as unknown as Argv<LoginArgs>,
  async run(args, ctx) {
    if (args.creds) throw new UsageError('ferry login takes --username and --password-stdin, not --creds');
    if (!args.username) throw new UsageError('--username is required: ferry login HOST --username USER --password-stdin');
    if (!args['password-stdin']) throw new UsageError('give the password on standard input: echo "$PASSWORD" | ferry login HOST --username USER --password-stdin');
    const password = await passwordFromStdin();
    const { authfile, ...client } = clientOptionsFrom(args);
    const result = await login({ registry: args.registry, username: args.username, password, client, ...(authfile ? { authfile } : {}), env: process.env, signal: ctx.signal });
    if (result.typed) ctx.out.warn(`'${result.typed}' stored as ${result.registry}: registries (ACR above all) answer only to the lowercase login server`);
    if (result.scheme === 'none') ctx.out.warn(`${result.registry} asked for no credentials; they were stored anyway`);
    ctx.out.result({ ok: true, ...result }, () =>
      `login succeeded: ${args.username} at ${result.registry}, stored in ${result.helper ? `credential helper ${result.helper} (via ${result.authfile})` : result.authfile}${result.replaced.length > 0 ? `, replacing ${result.replaced.join(', ')}` : ''}`,
    );
  },
});

export const logoutCommand = defineCommand<LoginArgs>({
  command: 'logout <registry>',
  describe: 'forget the stored credentials of a registry',
  examples: [
    ['ferry logout registry.site.example:5000', 'forget the stored credentials'],
    ['ferry logout registry.site.example:5000 --authfile auth.json', 'from a chosen auth file'],
  ],
  docs: 'docs/site-registry.md',
  builder: (y) =>
    y
      .positional('registry', { type: 'string', demandOption: true, describe: 'HOST[:PORT]' })
      .option('authfile', { type: 'string', describe: 'the auth file (default: $REGISTRY_AUTH_FILE, else ~/.docker/config.json)' }) as unknown as Argv<LoginArgs>,
  async run(args, ctx) {
    const result = await logout({ registry: args.registry, ...(args.authfile ? { authfile: args.authfile } : {}), env: process.env });
    ctx.out.result(result, () => (result.removed ? `removed the login of ${result.registry} from ${result.helper ? `credential helper ${result.helper}` : result.authfile}` : `not logged in to ${result.registry} (${result.authfile})`));
  },
});
