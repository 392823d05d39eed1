// The bad-input corpus (test/bad-input/): malformed recipes and system targets, all copied into
// one real temporary workspace and read by ONE nx run. Every corpus file starts with one or more
// `# expect: <regex>` lines; each must match exactly one line of the run's output that names the
// file, and that line must start with the file's workspace-relative path (`<file>: <field>: <problem>; <fix>`).
// Files without an `# expect:` line are valid helpers other cases refer to. Bad system targets and
// bad recipes are in the same workspace: a bad target file does not hide the recipes' errors.
// The run is `nx show projects`; `nx graph --file` reports the same errors but, by Nx's own
// design (nx/src/command-line/graph), then writes a partial graph and exits 0: checked to hold
// no project of the plugin.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const CORPUS = path.join(REPO_ROOT, 'test', 'bad-input');

interface Case {
  /** Workspace-relative path of the file (`recipes/x/recipe.yaml`, `targets/t-x.yaml`). */
  readonly file: string;
  /** The expected error texts, as regular expressions. */
  readonly expect: readonly RegExp[];
}

function expectations(text: string): RegExp[] {
  const out: RegExp[] = [];
  for (const line of text.split('\n')) {
    const m = /^# expect: (.*)$/.exec(line);
    if (!m) break;
    out.push(new RegExp(m[1]));
  }
  return out;
}

/** Every corpus file below `dir` (workspace-relative `rel`) whose name passes `want`. */
function corpus(dir: string, rel: string, want: (name: string) => boolean): Case[] {
  const out: Case[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...corpus(p, `${rel}/${entry.name}`, want));
    else if (want(entry.name)) out.push({ file: `${rel}/${entry.name}`, expect: expectations(readFileSync(p, 'latin1')) });
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A valid recipe head for cases generated at test time. */
const head = (name: string) => `name: ${name}\nversion: "1.0"\nrelease: 1\ndescription: A generated bad-input case\nlicense: [MIT]\nhomepage: https://example.org/\n`;

describe('the bad-input corpus, every file reported in one run', () => {
  let ws: TestWorkspace;
  let outside: string;
  const cases: Case[] = [
    ...corpus(path.join(CORPUS, 'recipes'), 'recipes', (n) => n === 'recipe.yaml'),
    ...corpus(path.join(CORPUS, 'targets'), 'targets', (n) => n.endsWith('.yaml')),
  ];
  const bad = () => cases.filter((c) => c.expect.length);
  let run: { exitCode: number; all: string; stdout: string; ms: number };

  before(async () => {
    ws = createWorkspace();
    cpSync(path.join(CORPUS, 'recipes'), path.join(ws.root, 'recipes'), { recursive: true });
    cpSync(path.join(CORPUS, 'targets'), path.join(ws.root, 'targets'), { recursive: true });
    // The repository's .gitignore, which Nx honours: it must hide the workspace's own output
    // folders (dist/, tmp/) only at the root, not recipes/dist/ or recipes/tmp/.
    cpSync(path.join(REPO_ROOT, '.gitignore'), path.join(ws.root, '.gitignore'));
    // Huge files are made here, not committed: a recipe and a target of 6 MB each (a valid
    // head and then a long comment), both over the size limit.
    const padding = `# ${'x'.repeat(1000)}\n`.repeat(6000);
    ws.write('recipes/huge-file/recipe.yaml', `${head('huge-file')}${padding}`);
    cases.push({ file: 'recipes/huge-file/recipe.yaml', expect: [/recipes\/huge-file\/recipe\.yaml: the file is 6\.0 MB; a recipe or system target file must be at most 1 MB/] });
    // A 900 kB version (the file is under the 1 MB limit): refused by its own limit, shown cut.
    ws.write('recipes/version-huge/recipe.yaml', head('version-huge').replace('version: "1.0"', `version: "${'1'.repeat(900_000)}"`));
    cases.push({ file: 'recipes/version-huge/recipe.yaml', expect: [/recipes\/version-huge\/recipe\.yaml: version: must NOT have more than 128 characters \(got "1{56}\.\.\.\)/] });
    ws.write('targets/t-huge.yaml', `arch: x86_64\n${padding}`);
    cases.push({ file: 'targets/t-huge.yaml', expect: [/targets\/t-huge\.yaml: the file is 6\.0 MB; a recipe or system target file must be at most 1 MB/] });
    // Files that are not regular files inside their own folder, made here (git keeps no FIFO,
    // and a link's target must be outside the workspace): each is refused with one line naming
    // it, and nothing behind a link is read (its marker never shows).
    outside = mkdtempSync(path.join(tmpdir(), 'nx-distro-outside-'));
    writeFileSync(path.join(outside, 'recipe.yaml'), `${head('link-recipe')}NEVER-ECHOED-secret: 1\n`);
    mkdirSync(path.join(ws.root, 'recipes/link-recipe'));
    symlinkSync(path.join(outside, 'recipe.yaml'), path.join(ws.root, 'recipes/link-recipe/recipe.yaml'));
    cases.push({ file: 'recipes/link-recipe/recipe.yaml', expect: [/recipes\/link-recipe\/recipe\.yaml: is a symbolic link, not a regular file; replace it with a regular file/] });
    const withPatch = (name: string, patch: string) => `${head(name)}patches:\n  - file: ${patch}\n    upstream: https://example.org/bug/1\n`;
    ws.write('recipes/link-patch/recipe.yaml', withPatch('link-patch', 'shadow.patch'));
    symlinkSync('/etc/shadow', path.join(ws.root, 'recipes/link-patch/shadow.patch'));
    cases.push({ file: 'recipes/link-patch/recipe.yaml', expect: [/patches\[0\]\.file: "shadow\.patch": is a symbolic link, not a regular file; replace it/] });
    mkdirSync(path.join(outside, 'patches'));
    writeFileSync(path.join(outside, 'patches/fix.patch'), 'NEVER-ECHOED\n');
    ws.write('recipes/link-patch-folder/recipe.yaml', withPatch('link-patch-folder', 'patches/fix.patch'));
    symlinkSync(path.join(outside, 'patches'), path.join(ws.root, 'recipes/link-patch-folder/patches'));
    cases.push({ file: 'recipes/link-patch-folder/recipe.yaml', expect: [/patches\[0\]\.file: "patches\/fix\.patch": recipes\/link-patch-folder\/patches is a symbolic link, not a folder; replace it/] });
    ws.write('recipes/fifo-patch/recipe.yaml', withPatch('fifo-patch', 'fix.patch'));
    execFileSync('mkfifo', [path.join(ws.root, 'recipes/fifo-patch/fix.patch')]);
    cases.push({ file: 'recipes/fifo-patch/recipe.yaml', expect: [/patches\[0\]\.file: "fix\.patch": is a FIFO, not a regular file; replace it/] });
    writeFileSync(path.join(outside, 't-link.yaml'), readFileSync(path.join(ws.root, 'targets/x86_64.yaml')));
    symlinkSync(path.join(outside, 't-link.yaml'), path.join(ws.root, 'targets/t-link.yaml'));
    cases.push({ file: 'targets/t-link.yaml', expect: [/targets\/t-link\.yaml: is a symbolic link, not a regular file; replace it/] });
    const started = Date.now();
    const r = await ws.nx('show', 'projects');
    run = { exitCode: r.exitCode, all: r.all, stdout: r.stdout, ms: Date.now() - started };
  });
  after(() => {
    ws.dispose();
    rmSync(outside, { recursive: true, force: true });
  });

  it('holds at least 50 malformed files, recipes and system targets', () => {
    assert.ok(bad().length >= 50, `${bad().length} cases`);
    assert.ok(bad().filter((c) => c.file.startsWith('targets/')).length >= 15);
    assert.ok(bad().filter((c) => c.file.startsWith('recipes/')).length >= 50);
  });

  it('fails the run and lists no project (nothing half-read, nothing half-written)', () => {
    assert.notEqual(run.exitCode, 0, run.all);
    for (const name of ['helper-ok', 'helper-nostage', 'system']) assert.doesNotMatch(run.stdout, new RegExp(`^${name}$`, 'm'));
    assert.ok(run.ms < 120_000, `the run took ${run.ms} ms`);
  });

  it('reports every expected error exactly once, on a line naming the file', () => {
    const lines = run.all.split('\n');
    const problems: string[] = [];
    for (const c of bad()) {
      for (const re of c.expect) {
        const hits = lines.filter((l) => re.test(l) && l.includes(c.file));
        if (hits.length !== 1) {
          problems.push(`${c.file}: ${re} matched ${hits.length} lines${hits.length ? `:\n  ${hits.join('\n  ')}` : ''}`);
          continue;
        }
        // The line is `<file>: ...` (after Nx's indentation or bullet): the file comes first.
        const named = new RegExp(`^[\\s\\-•>]*${escape(c.file)}: \\S`);
        const cycleOther = /dependency cycle: .*\(recipes: /.test(hits[0]) && hits[0].includes(`${c.file})`) || hits[0].includes(`${c.file},`);
        if (!named.test(hits[0]) && !cycleOther) problems.push(`${c.file}: the line does not start with the file: ${hits[0]}`);
      }
    }
    assert.deepEqual(problems, [], `${problems.join('\n')}\n--- output:\n${run.all.slice(0, 20000)}`);
  });

  it('gives one line per problem: every line naming a bad file is one of its expected errors', () => {
    // A failed `anyOf`/`oneOf` once added the failures of every branch and a line with the whole
    // schema description (`toolchain.kind: ...; use "bootstrap"` for an external toolchain).
    const lines = run.all.split('\n').map((l) => l.replace(/^[\s\-•>]+/, ''));
    const unexpected: string[] = [];
    for (const c of bad()) {
      for (const l of lines.filter((x) => x.startsWith(`${c.file}: `))) if (!c.expect.some((re) => re.test(l))) unexpected.push(l);
    }
    assert.deepEqual(unexpected, []);
  });

  it('escapes every control character a file holds and echoes no text of a file that failed to parse', () => {
    // Values are quoted with control characters escaped (license-forged-line, t-forged-key,
    // t-forged-set): no ANSI escape, carriage return or forged line reaches the output.
    assert.doesNotMatch(run.all, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    // The files that are not a mapping or not YAML (top-level-scalar, yaml-unknown-tag,
    // yaml-undefined-alias) and the files behind links hold this marker; nothing of them is shown.
    assert.doesNotMatch(run.all, /NEVER-ECHOED/);
  });

  it('names every bad file and no valid one, each error on one line, without a stack trace', () => {
    const files = cases.map((c) => c.file);
    const errorLines = run.all.split('\n').filter((l) => files.some((f) => l.includes(`${f}:`)));
    for (const c of bad()) assert.ok(errorLines.some((l) => l.includes(c.file)), `${c.file} is not named\n${run.all.slice(0, 5000)}`);
    for (const c of cases.filter((x) => !x.expect.length)) {
      assert.ok(!errorLines.some((l) => new RegExp(`^[\\s\\-•>]*${escape(c.file)}:`).test(l)), `the valid ${c.file} is reported`);
    }
    assert.doesNotMatch(run.all, /^\s+at /m, 'no stack frame');
    assert.doesNotMatch(run.all, /\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/);
    // No line is longer than a screenful: values are shortened in messages (the 6 MB files and the alias bomb).
    for (const l of run.all.split('\n')) assert.ok(l.length < 600, `a ${l.length}-character line: ${l.slice(0, 200)}...`);
  });

  it('reports the same errors through `nx graph --file`, whose partial graph holds no recipe', async () => {
    const r = await ws.nx('graph', '--file=graph.json');
    for (const c of bad()) for (const re of c.expect) assert.match(r.all, re, c.file);
    assert.doesNotMatch(r.all, /^\s+at /m);
    if (existsSync(path.join(ws.root, 'graph.json'))) {
      const nodes = Object.keys(ws.readJson('graph.json').graph.nodes);
      assert.deepEqual(nodes.filter((n) => n.startsWith('helper-') || n === 'system'), [], 'no project of nx-distro in the partial graph');
    }
  });
});
