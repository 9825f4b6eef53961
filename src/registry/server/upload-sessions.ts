import { randomUUID } from 'node:crypto';
import type { IngestWriter } from '../../store/index.js';
import { ServerError } from './respond.js';

// Upload sessions (POST → PATCH… → PUT): the spec's protocol state, kept here
// and nowhere else. Each session owns one store ingest (ref `upload:<id>`) held
// open between requests, so chunks append without re-hashing what came before.
// Sessions idle for longer than the TTL are aborted by `expire`, which the
// server's janitor timer calls, and their partials with them (distribution's
// purgeuploads, in process).

/** The part of a store ingest writer a session uses: size, stream (one at a time), commit, abort. */
export type SessionWriter = Pick<IngestWriter, 'size' | 'stream' | 'commit' | 'abort'>;

export interface UploadSession {
  readonly id: string;
  readonly repository: string;
  readonly ref: string;
  readonly writer: SessionWriter;
  readonly startedAt: number;
  lastActivity: number;
  /** A request is reading or writing this session now; others must wait their turn. */
  busy: boolean;
}

export interface UploadSessionsOptions {
  /** Opens the store ingest for a new session. */
  readonly open: (ref: string) => Promise<SessionWriter>;
  /** A session untouched for this long is aborted. */
  readonly ttlMs: number;
  /** More open sessions than this answer 429: each holds a file descriptor. */
  readonly maxSessions: number;
  readonly clock?: () => number;
}

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();
  private readonly opts: UploadSessionsOptions;
  private readonly clock: () => number;

  constructor(opts: UploadSessionsOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  async create(repository: string): Promise<UploadSession> {
    if (this.sessions.size >= this.opts.maxSessions) {
      throw new ServerError('TOOMANYREQUESTS', `too many uploads in progress (${this.opts.maxSessions}); retry later`, {
        headers: { 'retry-after': '10' },
      });
    }
    const id = randomUUID();
    const ref = `upload:${id}`;
    const writer = await this.opts.open(ref);
    const now = this.clock();
    const session: UploadSession = { id, repository, ref, writer, startedAt: now, lastActivity: now, busy: false };
    this.sessions.set(id, session);
    return session;
  }

  /**
   * The session `id` of `repository`, marked busy until `release`. Unknown ids and
   * sessions of another repository are both BLOB_UPLOAD_UNKNOWN.
   */
  acquire(id: string, repository: string): UploadSession {
    const session = this.sessions.get(id);
    if (!session || session.repository !== repository) {
      throw new ServerError('BLOB_UPLOAD_UNKNOWN', `upload ${id.slice(0, 64)} is unknown to repository ${repository}`);
    }
    if (session.busy) throw new ServerError('BLOB_UPLOAD_INVALID', `upload ${id} is busy with another request`);
    session.busy = true;
    session.lastActivity = this.clock();
    return session;
  }

  release(session: UploadSession): void {
    session.busy = false;
    session.lastActivity = this.clock();
  }

  /** Forgets a session whose ingest was committed or aborted by the caller. */
  forget(session: UploadSession): void {
    this.sessions.delete(session.id);
  }

  /** Cancels a session: its partial is deleted. */
  async cancel(session: UploadSession): Promise<void> {
    this.sessions.delete(session.id);
    await session.writer.abort();
  }

  /** Aborts sessions idle past the TTL; returns how many. */
  async expire(now: number = this.clock()): Promise<number> {
    const stale = [...this.sessions.values()].filter((s) => !s.busy && now - s.lastActivity > this.opts.ttlMs);
    for (const s of stale) await this.cancel(s).catch(() => undefined);
    return stale.length;
  }

  /** Aborts every session (shutdown, after in-flight requests finished). */
  async closeAll(): Promise<void> {
    for (const s of [...this.sessions.values()]) await this.cancel(s).catch(() => undefined);
  }
}
