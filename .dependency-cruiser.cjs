// The import direction of packages/nx-distro/src, checked by dependency-cruiser
// (test/layers.test.ts runs it in `npm test`; by hand: npx depcruise packages/nx-distro/src).
//
// Folders are in layers; a module imports only from its own folder, from its own layer's other
// folders (never in a circle), or from a layer below it:
//
//   entries        plugin/ executors/ generators/ cli.ts and every command (cli.ts, *-cli.ts):
//                  what Nx or the nx-distro command calls; nothing but the command dispatcher
//                  (cli.ts) imports them
//   orchestration  cluster/           where a build runs (a Slurm job)
//   pipeline       pipeline/ bundle/  one recipe built into packages; the source bundle
//   products       image/ lint/ reproducible/ run-report/ explain/ packages/
//                                     what is made of packages, and the packages themselves
//   services       sources/ sandbox/ build-machine/ styles/ debian/
//                                     fetching and unpacking, the sandbox, the build machine's
//                                     checks, build styles, Debian's formats
//   model          model/             recipes, system targets, the graph, names, errors
//   util           util/              file, lock and hash helpers with no nx-distro knowledge
//
// Test helpers (testing/, styles/testing.ts) may import anything and are imported only by tests.
// Every module is also held to no circular import at all. What the plugin loads at run time is
// checked by .dependency-cruiser.runtime.cjs.

const SRC = '^packages/nx-distro/src/';

/** The layers, highest first: folder (or top-level file) names under src/. */
const LAYERS = [
  { name: 'entries', folders: ['plugin', 'executors', 'generators', 'cli\\.ts'] },
  { name: 'orchestration', folders: ['cluster'] },
  { name: 'pipeline', folders: ['pipeline', 'bundle'] },
  { name: 'products', folders: ['image', 'lint', 'reproducible', 'run-report', 'explain', 'packages'] },
  { name: 'services', folders: ['sources', 'sandbox', 'build-machine', 'styles', 'debian'] },
  { name: 'model', folders: ['model'] },
  { name: 'util', folders: ['util'] },
];

const under = (folders) => `${SRC}(${folders.join('|')})(/|$)`;
const TESTS = '\\.test\\.ts$';
const TEST_HELPERS = `${SRC}(testing/|styles/testing\\.ts$)`;
/** Commands: src/cli.ts and every `cli.ts` or `*-cli.ts` module of a folder. */
const COMMANDS = `${SRC}[^.]*cli\\.ts$`;

const layerRules = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.name} (${layer.folders.join(', ')}) imports only from its own layer or below: not from ${LAYERS.slice(0, i + 1).map((l) => l.name).join(', ')} (.dependency-cruiser.cjs)`,
  severity: 'error',
  from: { path: under(layer.folders), pathNot: [TESTS, TEST_HELPERS, COMMANDS] },
  to: { path: under(LAYERS.slice(0, i + 1).flatMap((l) => l.folders)) },
}));

/**
 * The modules that start subprocesses with node:child_process instead of execa, each for a reason:
 * the plugin's graph code loads them (the plugin worker never loads execa: .dependency-cruiser.runtime.cjs),
 * or a child's stdin or stdout is one of this process's file descriptors (a log or output file,
 * passed straight to it: execa takes no descriptor above 9), or, for the package reader, until
 * the one archive module (issue 24) takes it over.
 */
const CHILD_PROCESS_ALLOWED = [
  // loaded by the plugin's graph code
  'build-machine/requirements', 'model/system-target-identity', 'packages/abi-manifest',
  // a file descriptor passed to the child
  'sandbox/bwrap', 'packages/pacman-package', 'image/compress', 'sources/extract',
  // until the archive module
  'packages/tar-input',
].map((m) => `${SRC}${m}\\.ts$`);

module.exports = {
  forbidden: [
    {
      name: 'subprocesses-through-execa',
      comment: 'run a subprocess with execa (as the rest of the plugin does), not node:child_process; the exceptions and their reasons are CHILD_PROCESS_ALLOWED in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: SRC, pathNot: [TESTS, TEST_HELPERS, ...CHILD_PROCESS_ALLOWED] },
      to: { dependencyTypes: ['core'], path: '^child_process$' },
    },
    {
      name: 'no-circular',
      comment: 'a circular import: move what both sides need into a module below them',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'entries-not-imported',
      comment: 'a command, an executor, a generator or the plugin is an entry: only the command dispatcher (src/cli.ts) imports a command; move what another module needs into a layer below',
      severity: 'error',
      from: { path: SRC, pathNot: [TESTS, TEST_HELPERS, `${SRC}cli\\.ts$`, `${SRC}(plugin|executors|generators)/`] },
      to: { path: [COMMANDS, `${SRC}(plugin|executors|generators)/`] },
    },
    {
      name: 'executors-apart',
      comment: 'an executor imports no other executor (their shared preamble is executors/context.ts); move what both need into a layer below',
      severity: 'error',
      from: { path: `${SRC}executors/([^/]+)/` },
      to: { path: `${SRC}executors/[^/]+/`, pathNot: [`${SRC}executors/$1/`] },
    },
    {
      name: 'plugin-and-generators-apart',
      comment: 'the plugin, the executors and the generators import none of each other (executors/context.ts aside: the executors\' own); move what they share into a layer below',
      severity: 'error',
      from: { path: `${SRC}(plugin|executors|generators)/` },
      to: { path: `${SRC}(plugin|executors|generators)/`, pathNot: [`${SRC}$1/`] },
    },
    {
      name: 'test-helpers-only-in-tests',
      comment: 'a test helper is imported only by tests',
      severity: 'error',
      from: { path: SRC, pathNot: [TESTS, TEST_HELPERS] },
      to: { path: TEST_HELPERS },
    },
  ],
  options: {
    // Type-only imports count: a type from a higher layer ties the layers as much as a value.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
  },
};
