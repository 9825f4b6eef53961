/**
 * Is a process with this pid running on this host? Used to tell an ingest held by a
 * live writer in another process from one left behind by a crash. (A reused pid can
 * make a dead writer look alive; the ingest janitor's TTL covers that case.)
 */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
