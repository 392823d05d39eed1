// The baseline of the scale benchmark: the cheapest plugin that gives Nx a graph of the same
// shape to plan as nx-distro's: one project per recipe with `fetch`, `build` and
// `build--stage1` (when the recipe declares one), the same configurations (one per system target file), the build depending on
// its own fetch and on the builds (or stages) its `makedepends` name, and each build's inputs its
// own folder and its direct dependencies' outputs only (the issue's "trivial plugin with direct
// inputs"). The dependency lists are read with one regular expression per line, nothing is
// validated, no closure over runtime `depends` is computed (nx-distro's builds also wait for,
// and read, the packages their makedepends need at runtime: about 8x the task dependencies).
const { readFileSync, readdirSync } = require('node:fs');
const path = require('node:path');

const list = (text, field) => {
  const m = new RegExp(`^${field}: \\[(.*)\\]$`, 'm').exec(text);
  return m ? m[1].split(',').map((s) => s.trim()).filter(Boolean) : [];
};

exports.createNodes = [
  'recipes/{*,*/*}/recipe.yaml',
  (files, _options, context) => {
    const executor = 'nx:noop';
    const configurations = {};
    for (const f of readdirSync(path.join(context.workspaceRoot, 'targets')).filter((f) => f.endsWith('.yaml'))) {
      configurations[f.slice(0, -5)] = { systemTarget: f.slice(0, -5) };
    }
    return files.map((file) => {
      const root = path.posix.dirname(file);
      const name = path.posix.basename(root);
      const text = readFileSync(path.join(context.workspaceRoot, file), 'utf8');
      const byTarget = {};
      for (const dep of list(text, 'makedepends')) {
        const [project, stage] = dep.split('@');
        (byTarget[stage ? `build--${stage}` : 'build'] ??= []).push(project);
      }
      const build = {
        executor,
        cache: true,
        inputs: ['{projectRoot}/**/*', { dependentTasksOutputFiles: '**/*', transitive: false }],
        outputs: [`{workspaceRoot}/dist/{options.systemTarget}/packages/${name}`],
        dependsOn: ['fetch', ...Object.entries(byTarget).map(([target, projects]) => ({ target, projects, params: 'ignore' }))],
        configurations,
        defaultConfiguration: 'x86_64',
      };
      const targets = { fetch: { executor, cache: true, inputs: ['{projectRoot}/**/*'] }, build };
      if (/^stages:/m.test(text)) targets['build--stage1'] = { ...build, dependsOn: ['fetch'] };
      return [file, { projects: { [root]: { name, root, targets } } }];
    });
  },
];

exports.createDependencies = (_options, context) => {
  const deps = [];
  for (const [source, project] of Object.entries(context.filesToProcess.projectFileMap)) {
    for (const f of project) {
      if (!f.file.endsWith('/recipe.yaml')) continue;
      const text = readFileSync(path.join(context.workspaceRoot, f.file), 'utf8');
      for (const field of ['depends', 'makedepends']) {
        for (const dep of list(text, field)) {
          const target = dep.split('@')[0];
          if (context.projects[target]) deps.push({ source, target, sourceFile: f.file, type: 'static' });
        }
      }
    }
  }
  return deps;
};
