/**
 * Whether an error is a file system running out of space: Node's `ENOSPC` (`code`), or a child
 * program's error whose message carries the C library's text for it ("No space left on device",
 * e.g. zstd, tar, cp).
 */
export function isDiskFull(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  return (e as NodeJS.ErrnoException).code === 'ENOSPC' || /ENOSPC|No space left on device/.test(e.message);
}

/**
 * The one-line error for a task stopped by a full file system.
 * @param what the task's subject (`zlib`, `zlib@stage1`, `system-target`)
 * @param where the folders the task was writing (absolute or workspace-relative), named in the fix
 * @param e the error {@link isDiskFull} accepted
 */
export function diskFullMessage(what: string, where: readonly string[], e: Error): string {
  const first = e.message.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? e.message;
  return `${what}: no space left on the device (${first}); nothing was stored under a final name; fix: free space in the file system of ${where.join(' or ')} (df -h shows it) and run the task again`;
}
