/**
 * The configuration an nx command line asks for, from its argv (as Nx passes it to
 * `preTasksExecution`): `-c X`, `-c=X`, `--configuration X`, `--configuration=X`, or the third
 * part of a `project:target:configuration` task name.
 * @param argv the whole process argv (`['node', '.../nx', 'run-many', '-t', 'build', '-c', 'armv7h']`)
 * @returns the configuration name, or `undefined` when none is given
 */
export function requestedConfiguration(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-c' || a === '--configuration') return argv[i + 1];
    const m = /^(?:-c|--configuration)=(.+)$/.exec(a);
    if (m) return m[1];
  }
  for (const a of argv.slice(2)) {
    const parts = a.split(':');
    if (!a.startsWith('-') && parts.length === 3 && parts.every(Boolean)) return parts[2];
  }
  return undefined;
}
