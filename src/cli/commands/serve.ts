import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { addUser, createRegistryServer, ROLES, type AccessRule, type Role } from '../../registry/server/index.js';
import { defineCommand, type CommandContext, type GlobalArgs } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';

// `ferry serve`: the embedded registry on the store; its subcommand `ferry serve
// users add NAME` manages the users file.

interface ServeArgs extends GlobalArgs {
  /** users add: the user. */
  name?: string;
  addr: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  users?: string;
  'anonymous-pull': boolean;
  'read-only': boolean;
  'insecure-open': boolean;
  'request-log': boolean;
  access?: string[];
  password?: string;
}

function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  if (!m) throw new UsageError(`invalid --addr '${addr}': expected HOST:PORT, e.g. 127.0.0.1:5000 or 0.0.0.0:443`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/** `team-a/*=pull,push` → an access rule. */
function parseAccess(text: string): AccessRule {
  const eq = text.lastIndexOf('=');
  const roles = (eq > 0 ? text.slice(eq + 1) : '').split(',').filter(Boolean);
  if (eq <= 0 || roles.length === 0 || !roles.every((r) => (ROLES as readonly string[]).includes(r))) {
    throw new UsageError(`invalid --access '${text}': expected PATTERN=ROLES with roles from ${ROLES.join(', ')}, e.g. 'team-a/*=pull,push'`);
  }
  return { pattern: text.slice(0, eq), roles: roles as Role[] };
}

async function readPassword(args: ServeArgs): Promise<string> {
  if (args.password) return args.password;
  if (process.stdin.isTTY) throw new UsageError('give the password on standard input (echo … | ferry serve users add NAME …) or with --password');
  for await (const line of createInterface({ input: process.stdin })) return line;
  throw new UsageError('no password on standard input');
}

async function usersAdd(args: ServeArgs, { out }: CommandContext): Promise<void> {
  const name = args.name;
  if (!name || !args.users) throw new UsageError('usage: ferry serve users add NAME --users FILE --access PATTERN=ROLES');
  const access = (args.access ?? ['*=pull']).map(parseAccess);
  await addUser(args.users, name, await readPassword(args), access);
  out.result({ user: name, users: args.users, access }, () => `${name} added to ${args.users}: ${access.map((a) => `${a.pattern}=${a.roles.join(',')}`).join(' ')}`);
}

async function serve(args: ServeArgs, ctx: CommandContext): Promise<void> {
  const { host, port } = parseAddr(args.addr);
  if (Boolean(args['tls-cert']) !== Boolean(args['tls-key'])) throw new UsageError('--tls-cert and --tls-key go together');
  const store = await openStoreFromArgs(args);
  const server = await createRegistryServer({
    store,
    ownsStore: true,
    host,
    port,
    ...(args['tls-cert'] && args['tls-key'] ? { tls: { certFile: args['tls-cert'], keyFile: args['tls-key'] } } : {}),
    ...(args.users ? { users: args.users } : {}),
    anonymousPull: args['anonymous-pull'],
    readOnly: args['read-only'],
    insecureOpen: args['insecure-open'],
    ...(args['request-log'] ? { onRequest: (e) => process.stderr.write(`${JSON.stringify(e)}\n`) } : {}),
    onError: (err, where) => ctx.out.warn(`${where}: ${(err as Error).message}`),
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  if (!ctx.out.quiet) for (const line of server.banner) process.stderr.write(`${line}\n`);
  ctx.out.result({ url: server.url, address: server.address, secure: server.secure }, () => `ferry serve: listening on ${server.url} (store ${store.dir}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  if (!ctx.out.quiet) process.stderr.write('ferry serve: stopping, finishing requests in flight…\n');
  await server.close();
}

const usersAddCommand = defineCommand<ServeArgs>({
  command: 'add <name>',
  describe: 'add a user (or change its password and access) in a users file',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'the user name' })
      .option('users', { type: 'string', demandOption: true, describe: 'the users file (made if missing), as given to ferry serve --users' })
      .option('access', { type: 'string', array: true, nargs: 1, describe: 'PATTERN=ROLES, e.g. "team-a/*=pull,push"; repeatable (default "*=pull")' })
      .option('password', { type: 'string', describe: 'the password (default: read from standard input)' }) as unknown as Argv<ServeArgs>,
  examples: [
    ["echo 's3cret' | ferry serve users add ci --users users.json --access 'team-a/*=pull,push'", 'a user that may push to team-a/'],
    ['ferry serve users add reader --users users.json < reader-password.txt', 'a user that may pull everything (the password from a file, never as an argument)'],
  ],
  docs: 'docs/site-registry.md',
  run: usersAdd,
});

const usersCommand = defineCommand<GlobalArgs>({
  command: 'users',
  describe: "manage the users file of ferry serve --users",
  builder: (y) => y,
  subcommands: [usersAddCommand],
  examples: [["echo 's3cret' | ferry serve users add ci --users users.json --access 'team-a/*=pull,push'", 'add a user']],
  docs: 'docs/site-registry.md',
});

export const serveCommand = defineCommand<ServeArgs>({
  command: 'serve',
  describe: 'run the embedded registry on the store (ferry serve users add NAME manages users)',
  builder: (y) =>
    y
      .option('addr', { type: 'string', default: '127.0.0.1:5000', describe: 'HOST:PORT to listen on' })
      .option('tls-cert', { type: 'string', describe: 'PEM certificate (with --tls-key): serve HTTPS, TLS 1.2 minimum' })
      .option('tls-key', { type: 'string', describe: 'PEM private key of --tls-cert' })
      .option('users', { type: 'string', describe: 'users file: Basic and token auth with pull/push/delete roles per repository pattern' })
      .option('anonymous-pull', { type: 'boolean', default: false, describe: 'with --users: anyone may pull' })
      .option('read-only', { type: 'boolean', default: false, describe: 'refuse pushes and deletes' })
      .option('insecure-open', { type: 'boolean', default: false, describe: 'listen beyond loopback WITHOUT --users (everyone may push and delete)' })
      .option('request-log', { type: 'boolean', default: false, describe: 'one JSON line per request on stderr' }) as unknown as Argv<ServeArgs>,
  subcommands: [usersCommand],
  examples: [
    ['ferry serve', 'the store on 127.0.0.1:5000, plain HTTP (loopback only)'],
    ['ferry serve --addr 0.0.0.0:5443 --tls-cert site.crt --tls-key site.key --users users.json', 'HTTPS for the site, with users'],
    ['ferry serve --addr 0.0.0.0:5000 --users users.json --anonymous-pull --read-only', 'anyone may pull, nobody may push'],
  ],
  docs: 'docs/site-registry.md',
  run: serve,
});
