/**
 * A user's mistake in an input file (recipe, system target, nx.json option), reported as one
 * line: `<file>: <field>: <problem>[; <fix>]`. Never carries a stack trace to the user: the
 * plugin and executors print `message` only.
 */
export class InputError extends Error {
  /** Workspace-relative path of the file at fault (e.g. `recipes/zlib/recipe.yaml`). */
  readonly file: string;
  /** Dotted field path inside the file (e.g. `sources[0].sha256`), or `''` for the whole file. */
  readonly field: string;

  /**
   * @param file workspace-relative path of the file at fault
   * @param field dotted field path, `''` for the file as a whole
   * @param problem what is wrong, without the file and field
   * @param fix how to fix it, if there is a single obvious way
   */
  constructor(file: string, field: string, problem: string, fix?: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${problem}${fix ? `; ${fix}` : ''}`);
    this.name = 'InputError';
    this.file = file;
    this.field = field;
  }
}

/**
 * Several {@link InputError}s found in one pass (every bad recipe in a run, not only the first).
 * `message` lists them one per line.
 */
export class InputErrors extends Error {
  readonly errors: readonly InputError[];
  constructor(errors: readonly InputError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'InputErrors';
    this.errors = errors;
  }
}
