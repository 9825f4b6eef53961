// Whether an error says the disk (or the user's quota) is full: from a write
// (ENOSPC, EDQUOT) or from SQLite (SQLITE_FULL). Each layer turns it into its
// own one-line message; none of them is a bug in ferry.

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}
