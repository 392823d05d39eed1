import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

// The format documents are written by hand from the schemas; this keeps them from falling behind:
// every field a schema accepts (at any depth) is named in a code span of its document.

const WORKSPACE = path.resolve(__dirname, '../../../..');

type Schema = { [key: string]: unknown };

/** Every property path of `schema` (`toolchain.prefix`, `sources.sha256`), following local `$ref`s once. */
function fieldPaths(schema: Schema, definitions: Record<string, Schema>, prefix = '', seen = new Set<string>()): string[] {
  const paths: string[] = [];
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.split('/').pop()!;
    if (seen.has(name)) return paths;
    seen.add(name);
    const target = definitions[name];
    assert.ok(target, `schema $ref ${JSON.stringify(ref)} resolves`);
    return fieldPaths(target, definitions, prefix, seen);
  }
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [name, sub] of Object.entries(properties)) {
    paths.push(prefix + name);
    paths.push(...fieldPaths(sub, definitions, `${prefix}${name}.`, seen));
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const sub = schema[key];
    if (sub && typeof sub === 'object') paths.push(...fieldPaths(sub as Schema, definitions, key === 'items' ? prefix : `${prefix}*.`, seen));
  }
  for (const sub of Object.values((schema.patternProperties ?? {}) as Record<string, Schema>)) paths.push(...fieldPaths(sub, definitions, `${prefix}*.`, seen));
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    for (const sub of (schema[key] ?? []) as Schema[]) paths.push(...fieldPaths(sub, definitions, prefix, seen));
  }
  return [...new Set(paths)];
}

/** The words inside the Markdown code spans of `text` (`{ kind: external, prefix }` gives kind, external, prefix). */
function codeWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const match of text.matchAll(/`([^`\n]+)`/g)) for (const word of match[1].split(/[^A-Za-z0-9_]+/)) if (word) words.add(word);
  return words;
}

function undocumented(schemaFile: string, documentFile: string): string[] {
  const schema = JSON.parse(readFileSync(path.join(WORKSPACE, schemaFile), 'utf8')) as Schema;
  const definitions = ((schema.$defs ?? schema.definitions ?? {}) as Record<string, Schema>);
  const words = codeWords(readFileSync(path.join(WORKSPACE, documentFile), 'utf8'));
  const paths = fieldPaths(schema, definitions);
  assert.ok(paths.length > 10, `${schemaFile}: found ${paths.length} fields`);
  return paths.filter((field) => !words.has(field.split('.').pop()!));
}

describe('format documents', () => {
  it('docs/recipe-format.md names every field of recipe.schema.json', () => {
    assert.deepEqual(undocumented('packages/nx-distro/src/model/recipe.schema.json', 'docs/recipe-format.md'), []);
  });

  it('docs/target-format.md names every field of target.schema.json', () => {
    assert.deepEqual(undocumented('packages/nx-distro/src/model/target.schema.json', 'docs/target-format.md'), []);
  });

  it('a field the document does not name is found', () => {
    const words = codeWords('| `name` | the name |\n`{ kind: external, prefix }`');
    assert.deepEqual(['name', 'kind', 'prefix', 'homepage'].filter((w) => !words.has(w)), ['homepage']);
  });
});
