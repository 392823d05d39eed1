import { parse, YAMLError } from 'yaml';
import { InputError } from './errors';

/**
 * Parses one YAML document (YAML 1.2 core schema, duplicate keys rejected, as the `yaml`
 * library does by default).
 * @param file workspace-relative path, for error messages
 * @param text the file's contents (UTF-8)
 * @returns the parsed value (`null` for an empty file)
 * @throws {InputError} on a syntax error, naming the line and column
 */
export function parseYamlFile(file: string, text: string): unknown {
  try {
    return parse(text, { prettyErrors: true });
  } catch (e) {
    if (e instanceof YAMLError) {
      const pos = e.linePos?.[0];
      const where = pos ? `line ${pos.line} column ${pos.col}` : '';
      const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new InputError(file, where, `invalid YAML: ${reason}`);
    }
    throw e;
  }
}
