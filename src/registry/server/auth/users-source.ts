import { createHmac, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { systemClock, type Clock } from '../../../core/clock.js';
import { loadUsersFile, type UserEntry } from './users-file.js';
import { verifyPassword } from './password.js';

// The users file as the running server sees it: reloaded when its mtime or size
// changes (so `ferry serve users add` works without a restart), checked at most
// once per RECHECK_MS. A reload that fails keeps the last good list: a half-edited
// file must not lock everybody out, nor let everybody in.

const RECHECK_MS = 2000;
/** How long a verified password is remembered: scrypt costs ~50 ms, Basic auth sends it on every request. */
const VERIFIED_TTL_MS = 5 * 60_000;
const MAX_VERIFIED = 1024;

export class UsersSource {
  readonly path: string;
  private users = new Map<string, UserEntry>();
  private stamp = '';
  private checkedAt = 0;
  private reloading: Promise<void> | undefined;
  /** HMAC(user, password, hash) → expiry: keyed by a per-process secret, so it holds nothing reusable. */
  private readonly verified = new Map<string, number>();
  private readonly cacheKey = randomBytes(32);
  private readonly clock: Clock;

  private constructor(path: string, clock: Clock) {
    this.path = path;
    this.clock = clock;
  }

  /** Loads the file now: a bad users file stops the server from starting. */
  static async open(path: string, clock: Clock = systemClock): Promise<UsersSource> {
    const source = new UsersSource(path, clock);
    await source.reload(true);
    return source;
  }

  async user(name: string): Promise<UserEntry | undefined> {
    if (this.clock() - this.checkedAt > RECHECK_MS) {
      this.reloading ??= this.reload(false).finally(() => (this.reloading = undefined));
      await this.reloading;
    }
    return this.users.get(name);
  }

  /** The user when `password` is theirs, else undefined. */
  async authenticate(name: string, password: string): Promise<UserEntry | undefined> {
    const user = await this.user(name);
    if (!user) return undefined;
    const key = createHmac('sha256', this.cacheKey).update(`${name}\0${password}\0${user.passwordHash}`).digest('base64');
    const until = this.verified.get(key);
    if (until !== undefined && until > this.clock()) return user;
    if (!(await verifyPassword(password, user.passwordHash))) return undefined;
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(key, this.clock() + VERIFIED_TTL_MS);
    return user;
  }

  private async reload(strict: boolean): Promise<void> {
    this.checkedAt = this.clock();
    try {
      const info = await stat(this.path);
      const stamp = `${info.mtimeMs}:${info.size}:${info.ino}`;
      if (stamp === this.stamp) return;
      const file = await loadUsersFile(this.path);
      this.users = new Map(file.users.map((u) => [u.name, u]));
      this.stamp = stamp;
    } catch (err) {
      if (strict) throw err;
    }
  }
}
