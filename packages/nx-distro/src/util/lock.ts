import lockfile from 'proper-lockfile';

/**
 * Runs `fn` while holding a proper-lockfile lock (a lock folder at `lockfilePath`, created with
 * `mkdir`, atomic on local filesystems), shared by every process on the machine. Waits, polling
 * every `minTimeoutMs` up to 1 s, for about 2 hours; a lock left by a killed process is taken
 * over once stale (not refreshed for 60 s; the holder refreshes it every 10 s).
 * @param target absolute path the lock is about (it need not exist)
 * @param lockfilePath absolute path of the lock folder; its parent must exist
 * @throws proper-lockfile's `ELOCKED` error when the wait times out; whatever `fn` throws
 */
export async function withFileLock<T>(target: string, lockfilePath: string, fn: () => Promise<T>, minTimeoutMs = 100): Promise<T> {
  const release = await lockfile.lock(target, {
    realpath: false,
    lockfilePath,
    stale: 60_000,
    update: 10_000,
    retries: { retries: 7200, factor: 1, minTimeout: minTimeoutMs, maxTimeout: 1000 },
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
