import Database from 'better-sqlite3';

// Every SQL statement an action runs, and the rows handed to JS, counted by
// wrapping better-sqlite3's real Statement methods (the queries still run):
// how inspect's cost in queries is asserted without timing it.

export type SqlCounts = { statements: number; rows: number; sql: string[] };
type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Every statement `action` runs, and the rows handed to JS. */
export async function countingSql(action: () => Promise<void> | void): Promise<SqlCounts> {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, Method>;
  probe.close();
  const counts: SqlCounts = { statements: 0, rows: 0, sql: [] };
  const originals = new Map<string, Method>();
  for (const name of ['all', 'get', 'iterate', 'run']) {
    const original = proto[name] as Method;
    originals.set(name, original);
    proto[name] = function (this: unknown, ...args: unknown[]) {
      counts.statements += 1;
      counts.sql.push((this as { source: string }).source);
      const result = original.apply(this, args);
      if (name === 'all') counts.rows += (result as unknown[]).length;
      else if (name === 'get') counts.rows += 1;
      return result;
    };
  }
  try {
    await action();
  } finally {
    for (const [name, original] of originals) proto[name] = original;
  }
  return counts;
}
