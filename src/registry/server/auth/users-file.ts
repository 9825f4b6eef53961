import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { UsageError } from '../../../core/index.js';
import { isRole, type AccessRule, type Role } from './access.js';
import { hashPassword, isPasswordHash } from './password.js';

// The users file of `ferry serve --users FILE`, JSON or YAML (chosen by extension
// when written; either is read):
//
//   users:
//     - name: ci
//       passwordHash: scrypt$16384$8$1$<salt>$<key>
//       access:
//         - { pattern: "team-a/*", roles: [pull, push] }
//
// `ferry serve users add` calls addUser; nothing else writes the file.

export interface UserEntry {
  readonly name: string;
  readonly passwordHash: string;
  readonly access: readonly AccessRule[];
}

export interface UsersFile {
  readonly users: readonly UserEntry[];
}

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const MAX_USERS_FILE_BYTES = 4 * 1024 * 1024;

function bad(path: string, what: string): UsageError {
  return new UsageError(`users file ${path}: ${what}`, { hint: 'add users with `ferry serve users add NAME --role PATTERN=ROLES`' });
}

export function validateUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new UsageError(`invalid user name '${name.slice(0, 80)}': 1-64 of letters, digits, '.', '_', '@', '-', starting with a letter or digit`);
  }
  return name;
}

function parseRule(value: unknown, path: string, where: string): AccessRule {
  if (typeof value !== 'object' || value === null) throw bad(path, `${where} is not an object`);
  const r = value as Record<string, unknown>;
  if (typeof r.pattern !== 'string' || r.pattern.length === 0 || r.pattern.length > 255) throw bad(path, `${where}.pattern must be a non-empty string`);
  if (!Array.isArray(r.roles) || !r.roles.every(isRole)) throw bad(path, `${where}.roles must list pull, push or delete`);
  return { pattern: r.pattern, roles: r.roles as Role[] };
}

/** Validates a parsed users document; `path` names it in errors. */
export function parseUsersFile(doc: unknown, path: string): UsersFile {
  if (doc === null || doc === undefined) return { users: [] };
  if (typeof doc !== 'object' || !Array.isArray((doc as { users?: unknown }).users)) throw bad(path, 'expected an object with a `users` list');
  const seen = new Set<string>();
  const users = ((doc as { users: unknown[] }).users).map((u, i): UserEntry => {
    if (typeof u !== 'object' || u === null) throw bad(path, `users[${i}] is not an object`);
    const e = u as Record<string, unknown>;
    if (typeof e.name !== 'string' || !USER_NAME.test(e.name)) throw bad(path, `users[${i}].name is missing or invalid`);
    if (seen.has(e.name)) throw bad(path, `user '${e.name}' appears twice`);
    seen.add(e.name);
    if (typeof e.passwordHash !== 'string' || !isPasswordHash(e.passwordHash)) {
      throw bad(path, `users[${i}] (${e.name}) has no valid passwordHash (plain-text passwords are not accepted)`);
    }
    const access = e.access === undefined ? [] : e.access;
    if (!Array.isArray(access)) throw bad(path, `users[${i}].access must be a list`);
    return { name: e.name, passwordHash: e.passwordHash, access: access.map((r, j) => parseRule(r, path, `users[${i}].access[${j}]`)) };
  });
  return { users };
}

/** Reads and validates a users file. */
export async function loadUsersFile(path: string): Promise<UsersFile> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > MAX_USERS_FILE_BYTES) throw bad(path, `larger than ${MAX_USERS_FILE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read users file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML is a superset of JSON: one parser reads both
  } catch (err) {
    throw bad(path, `not valid JSON or YAML (${(err as Error).message.split('\n')[0] ?? ''})`);
  }
  return parseUsersFile(doc, path);
}

/** Writes atomically (temp + rename), mode 0600: the file holds password hashes. */
async function writeUsersFile(path: string, file: UsersFile): Promise<void> {
  const text = /\.json$/i.test(path) ? `${JSON.stringify(file, null, 2)}\n` : stringifyYaml(file);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw new UsageError(`cannot write users file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UsageError(`cannot read users file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Adds `name` (or replaces its password and access) in the users file at `file`,
 * creating the file when it does not exist. The password is stored as a scrypt hash.
 */
export async function addUser(file: string, name: string, password: string, access: readonly AccessRule[]): Promise<void> {
  validateUserName(name);
  if (password.length === 0) throw new UsageError(`user '${name}' needs a non-empty password`);
  for (const [i, rule] of access.entries()) parseRule(rule, file, `access[${i}]`);
  const current = (await fileExists(file)) ? await loadUsersFile(file) : { users: [] };
  const entry: UserEntry = { name, passwordHash: await hashPassword(password), access: access.map((r) => ({ pattern: r.pattern, roles: [...r.roles] })) };
  const users = current.users.some((u) => u.name === name) ? current.users.map((u) => (u.name === name ? entry : u)) : [...current.users, entry];
  await writeUsersFile(file, { users });
}

/** Removes `name`; false when it was not there. */
export async function removeUser(file: string, name: string): Promise<boolean> {
  const current = await loadUsersFile(file);
  const users = current.users.filter((u) => u.name !== name);
  if (users.length === current.users.length) return false;
  await writeUsersFile(file, { users });
  return true;
}
