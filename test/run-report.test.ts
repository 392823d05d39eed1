// The run report (issue 22, "a picture of the run"): a real small run (zlib, a program linking it,
// and a build that fails on purpose, for the default system target) writes
// dist/run-report/latest.html; the page is opened in Debian's headless Chromium and what it
// renders is checked against Nx's own view of the same run: its task graph (`--graph=file`),
// and the critical path of the performance report Nx prints at the end of the run. Screenshots
// and the pages are kept under tmp/test-artifacts/run-report/.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startChromium, type HeadlessChromium } from './helpers/chromium';
import { createWorkspace, REPO_ROOT, type TestWorkspace } from './helpers/workspace';

const ARTIFACTS = path.join(REPO_ROOT, 'tmp', 'test-artifacts', 'run-report');
const JOBS = 2;
const COMMAND = ['run-many', '-t', 'build', `--parallel=${JOBS}`, '--output-style=static'];

/** What the test reads of a DOM element. */
interface Dom {
  readonly id: string;
  readonly dataset: Record<string, string | undefined>;
  readonly classList: ArrayLike<string>;
  readonly textContent: string | null;
  querySelector(selector: string): Dom | null;
  querySelectorAll(selector: string): ArrayLike<Dom>;
}

/** What the page shows, read from its DOM. */
interface Rendered {
  /** `#tasks` rows: id -> Nx status. */
  rows: Record<string, string>;
  /** Rows marked failed / on the critical path. */
  failedRows: string[];
  criticalRows: string[];
  /** Timeline bars. */
  bars: { id: string; start: number; end: number; lane: number; classes: string[] }[];
  /** `#critical-path` list, in order. */
  path: string[];
  /** `#total-*`: data-ms or data-count. */
  totals: Record<string, number>;
  /** Slowest builds' rows: task id -> the step list shown. */
  slowest: Record<string, string>;
  /** Step bands drawn inside the timeline bar of each task. */
  stepBands: Record<string, number>;
  title: string;
}

async function render(page: Page, file: string): Promise<Rendered> {
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${file}`);
  const rendered = await page.evaluate(() => {
    // The page's DOM, typed here as far as this reads it (the tests compile without lib "dom").
    const doc = (globalThis as unknown as { document: Dom & { title: string } }).document;
    const all = (sel: string, root: Dom = doc) => Array.from(root.querySelectorAll(sel));
    const rows: Record<string, string> = {};
    for (const tr of all('#tasks tr[data-task-id]')) rows[tr.dataset.taskId!] = tr.dataset.status!;
    const ids = (sel: string) => all(sel).map((e) => e.dataset.taskId!);
    const bars = all('svg g.task').map((g) => ({
      id: g.dataset.taskId!,
      start: Number(g.dataset.startMs),
      end: Number(g.dataset.endMs),
      lane: Number(g.dataset.lane),
      classes: Array.from(g.classList),
    }));
    const totals: Record<string, number> = {};
    for (const dd of all('[id^="total-"]')) totals[dd.id.slice('total-'.length)] = Number(dd.dataset.ms ?? dd.dataset.count);
    const slowest: Record<string, string> = {};
    for (const tr of all('#slowest tr[data-slow-task-id]')) slowest[tr.dataset.slowTaskId!] = tr.querySelector('.step-list')!.textContent!;
    const stepBands: Record<string, number> = {};
    for (const g of all('svg g.task')) stepBands[g.dataset.taskId!] = all('rect:not(.bar)', g).length;
    return { rows, failedRows: ids('#tasks tr.failed'), criticalRows: ids('#tasks tr.critical'), bars, path: ids('#critical-path li.critical'), totals, slowest, stepBands, title: doc.title };
  });
  assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'the page loads nothing from the network');
  assert.deepEqual(requests, [`file://${file}`], 'one self-contained page');
  return rendered;
}

/** Nx's task graph of a command (`--graph=<file>.json`): task id -> ids it depends on. */
async function nxTaskGraph(ws: TestWorkspace, command: readonly string[] = ['run-many', '-t', 'build', `--parallel=${JOBS}`]): Promise<Record<string, string[]>> {
  const r = await ws.nx(...command, '--graph=tmp/tasks.json');
  assert.equal(r.exitCode, 0, r.all);
  const deps: Record<string, { id: string }[]> = ws.readJson('tmp/tasks.json').tasks.dependencies;
  return Object.fromEntries(Object.entries(deps).map(([id, list]) => [id, list.map((d) => d.id)]));
}

/** The longest chain by the bars' durations, by trying every chain of Nx's graph (small graphs only). */
function longestChain(graph: Record<string, string[]>, duration: Map<string, number>): number {
  const best = (id: string): number => duration.get(id)! + Math.max(0, ...graph[id].filter((d) => duration.has(d)).map(best));
  return Math.max(0, ...[...duration.keys()].map(best));
}

/** The page's checks that hold for any run, against Nx's task graph and Nx's printed critical path. */
function checkAgainstNx(page: Rendered, graph: Record<string, string[]>, nxOutput: string): void {
  // Every task of the run is in the table, and every one that started has a bar.
  assert.deepEqual(Object.keys(page.rows).sort(), Object.keys(graph).sort(), "the table lists exactly the tasks of Nx's task graph");
  const timed = Object.keys(page.rows).filter((id) => page.rows[id] !== 'skipped').sort();
  assert.deepEqual(page.bars.map((b) => b.id).sort(), timed, 'a bar for every task that started');
  const bar = new Map(page.bars.map((b) => [b.id, b]));
  const duration = new Map(page.bars.map((b) => [b.id, b.end - b.start]));

  // Workers: at most --parallel lanes; tasks in one lane never overlap (but the cache hits Nx
  // restores together, which share its slot).
  assert.ok(page.bars.every((b) => b.lane >= 0 && b.lane < JOBS), `lanes within --parallel=${JOBS}: ${JSON.stringify(page.bars.map((b) => [b.id, b.lane]))}`);
  for (const a of page.bars) {
    for (const b of page.bars) {
      if (a.id >= b.id || a.lane !== b.lane) continue;
      const bulk = a.classes.includes('cached') && b.classes.includes('cached') && a.start === b.start && a.end === b.end;
      assert.ok(bulk || a.end <= b.start || b.end <= a.start, `${a.id} and ${b.id} overlap in worker ${a.lane + 1}`);
    }
  }

  // The critical path: marked in the list, the table and the timeline alike; a chain of Nx's
  // dependencies; the longest one by the durations shown; what Nx itself printed.
  assert.ok(page.path.length > 0, 'a critical path');
  assert.deepEqual([...page.criticalRows].sort(), [...page.path].sort());
  assert.deepEqual(page.bars.filter((b) => b.classes.includes('critical')).map((b) => b.id).sort(), [...page.path].sort());
  for (let i = 1; i < page.path.length; i++) assert.ok(graph[page.path[i]].includes(page.path[i - 1]), `${page.path[i]} depends on ${page.path[i - 1]} in Nx's task graph`);
  assert.deepEqual(graph[page.path[0]].filter((d) => duration.has(d)), [], 'the path starts at a task with no dependency that ran');
  const cp = page.path.reduce((sum, id) => sum + duration.get(id)!, 0);
  assert.equal(page.totals['critical-path'], cp);
  assert.equal(cp, longestChain(graph, duration), 'no chain of the task graph is longer');
  const nxLine = /^\s*Critical path:\s+(.+) \((\d+) tasks?\)$/m.exec(nxOutput);
  assert.ok(nxLine, `Nx printed its performance report:\n${nxOutput.slice(-2000)}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { formatDuration } = require('nx/src/native') as { formatDuration(ms: number): string };
  assert.equal(formatDuration(cp), nxLine[1], "the same critical path duration as Nx's own report");
  assert.equal(page.path.length, Number(nxLine[2]), "as many tasks on it as Nx's");

  // The totals, from the bars.
  const work = page.bars.reduce((sum, b) => sum + (b.end - b.start), 0);
  assert.equal(page.totals.work, work);
  assert.equal(page.totals.span, Math.max(...page.bars.map((b) => b.end)) - Math.min(...page.bars.map((b) => b.start)));
  assert.equal(page.totals.jobs, JOBS);
  assert.equal(page.totals.bound, Math.round(Math.max(cp, work / JOBS)));
  assert.ok(page.totals.wall >= page.totals.span, 'the wall time holds the tasks');
  assert.equal(page.totals.tasks, Object.keys(page.rows).length);
  const statuses = Object.values(page.rows);
  assert.equal(page.totals['cache-hits'], statuses.filter((s) => /cache/.test(s)).length);
  assert.equal(page.totals.failed, statuses.filter((s) => s === 'failure').length);
  assert.equal(page.totals['not-run'], statuses.filter((s) => s === 'skipped').length);
  assert.equal(page.totals.ran, statuses.filter((s) => s === 'success' || s === 'failure').length);
  assert.ok([...bar.values()].every((b) => b.end >= b.start));
}

describe('the run report', { timeout: 1_800_000 }, () => {
  let ws: TestWorkspace;
  let browser: HeadlessChromium;
  let graph: Record<string, string[]>;
  let first: string;

  before(async () => {
    ws = createWorkspace('run-report', { shareRunCache: true });
    cpSync(path.join(REPO_ROOT, 'recipes', 'zlib'), path.join(ws.root, 'recipes', 'zlib'), { recursive: true });
    browser = await startChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    ws?.dispose();
  });

  const shoot = async (name: string, file: string) => {
    const page = await browser.context.newPage();
    try {
      const rendered = await render(page, file);
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
      copyFileSync(file, path.join(ARTIFACTS, `${name}.html`));
      return rendered;
    } finally {
      await page.close();
    }
  };

  it('after a run with a failed build: every task, the failed one and the one not run marked, the critical path and totals as Nx has them, the build steps', async () => {
    const r = await ws.nx(...COMMAND);
    assert.notEqual(r.exitCode, 0, r.all); // Nx 24 exits 130 here (it counts the task it skipped as never completed)
    const line = /^nx-distro: run report \(timeline, critical path, totals\): dist\/run-report\/latest\.html \(kept as (\S+\.html)\)$/m.exec(r.all);
    assert.ok(line, `one line names the report:\n${r.all.slice(-3000)}`);
    first = line[1];
    assert.match(first, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-[0-9a-z]+\.html$/);
    graph = await nxTaskGraph(ws);
    const page = await shoot('run-with-a-failure', path.join(ws.root, 'dist', 'run-report', 'latest.html'));
    checkAgainstNx(page, graph, r.all);

    assert.match(page.title, /^nx-distro run: run-many -t build --parallel=2 --output-style=static \(1 failed\)$/);
    assert.equal(page.rows['zbroken:build:x86_64'], 'failure');
    assert.deepEqual(page.failedRows, ['zbroken:build:x86_64']);
    assert.ok(page.bars.find((b) => b.id === 'zbroken:build:x86_64')!.classes.includes('failed'));
    assert.equal(page.rows['system:build:x86_64'], 'skipped', 'the repository is not run: a package failed');
    assert.equal(page.totals.failed, 1);
    assert.equal(page.totals['not-run'], 1);

    // zinfo ran in this run (nothing else builds it): its steps from its build.log, in its bar
    // and in the slowest builds; the failed build shows its failed step.
    assert.equal(page.rows['zinfo:build:x86_64'], 'success');
    assert.match(page.slowest['zinfo:build:x86_64'], /^staging [\d.]+ (ms|s) · prepare [\d.]+ (ms|s) · build [\d.]+ (ms|s) · install [\d.]+ (ms|s) · packaging [\d.]+ (ms|s)$/);
    assert.ok(page.stepBands['zinfo:build:x86_64'] >= 3, 'the steps drawn along its bar');
    assert.match(page.slowest['zbroken:build:x86_64'], /^staging [\d.]+ (ms|s) · build [\d.]+ (ms|s) ✗$/);
    const log = ws.read('dist/x86_64/packages/zinfo/build.log');
    const zinfo = page.bars.find((b) => b.id === 'zinfo:build:x86_64')!;
    const steps = [...log.matchAll(/^==> (\w+) done: [\d.]+ s \[start_ms=(\d+) end_ms=(\d+) exit=0\]$/gm)];
    assert.deepEqual(steps.map((m) => m[1]), ['prepare', 'build', 'install']);
    for (const m of steps) assert.ok(Number(m[2]) >= zinfo.start && Number(m[3]) <= zinfo.end, `${m[1]} inside the task's own times`);
  });

  it('after the same run again: the cache hits counted and drawn as such, the failed build run again, the first report kept', async (t) => {
    if (!first) return t.skip('the first run did not complete');
    const r = await ws.nx(...COMMAND);
    assert.notEqual(r.exitCode, 0, r.all); // Nx 24 exits 130 here (it counts the task it skipped as never completed)
    const line = /^nx-distro: run report \(timeline, critical path, totals\): dist\/run-report\/latest\.html \(kept as (\S+\.html)\)$/m.exec(r.all);
    assert.ok(line, r.all.slice(-3000));
    assert.notEqual(line[1], first);
    const reports = readdirSync(path.join(ws.root, 'dist', 'run-report')).sort();
    assert.deepEqual(reports, [first, line[1], 'latest.html'].sort());
    const page = await shoot('run-from-the-cache', path.join(ws.root, 'dist', 'run-report', 'latest.html'));
    checkAgainstNx(page, graph, r.all);
    const hits = ['zlib:fetch', 'zinfo:fetch', 'zbroken:fetch', 'system:system-target:x86_64', 'system:toolchain-runtime:x86_64', 'zlib:build:x86_64', 'zinfo:build:x86_64'];
    for (const id of hits) {
      assert.equal(page.rows[id], 'local-cache', id);
      assert.ok(page.bars.find((b) => b.id === id)!.classes.includes('cached'), `${id} drawn as from the cache`);
    }
    assert.equal(page.totals['cache-hits'], hits.length);
    assert.equal(page.rows['zbroken:build:x86_64'], 'failure', 'a failure is not cached: it ran again');
    assert.deepEqual(Object.keys(page.slowest), ['zbroken:build:x86_64'], 'only builds that ran are among the slowest');
  });

  it('after `nx run` too; none with the plugin option runReport: false; a value that is not a boolean refused', async (t) => {
    if (!first) return t.skip('the first run did not complete');
    const r = await ws.nx('run', 'zinfo:build', `--parallel=${JOBS}`);
    assert.equal(r.exitCode, 0, r.all);
    const line = /^nx-distro: run report \(timeline, critical path, totals\): dist\/run-report\/latest\.html \(kept as (\S+\.html)\)$/m.exec(r.all);
    assert.ok(line, r.all.slice(-3000));
    const graph = await nxTaskGraph(ws, ['run', 'zinfo:build', `--parallel=${JOBS}`]);
    assert.deepEqual(Object.keys(graph).sort(), ['system:system-target:x86_64', 'zinfo:build:x86_64', 'zinfo:fetch', 'zlib:build:x86_64', 'zlib:fetch']);
    const page = await shoot('nx-run', path.join(ws.root, 'dist', 'run-report', line[1]));
    assert.deepEqual(Object.keys(page.rows).sort(), Object.keys(graph).sort());
    assert.equal(page.totals['cache-hits'], 5);

    const nxJson = ws.read('nx.json');
    const withOption = (value: unknown) => {
      const config = JSON.parse(nxJson);
      config.plugins[0].options.runReport = value;
      ws.write('nx.json', JSON.stringify(config));
    };
    try {
      withOption(false);
      const before = readdirSync(path.join(ws.root, 'dist', 'run-report')).sort();
      const off = await ws.nx('run', 'zinfo:build');
      assert.equal(off.exitCode, 0, off.all);
      assert.doesNotMatch(off.all, /nx-distro: run report/);
      assert.deepEqual(readdirSync(path.join(ws.root, 'dist', 'run-report')).sort(), before, 'no report written');
      withOption('no');
      const bad = await ws.nx('show', 'projects');
      assert.notEqual(bad.exitCode, 0);
      assert.match(bad.all, /nx\.json: plugins\[nx-distro\]\.options\.runReport: must be true or false, not "no"; write true \(the default\) or false/);
      assert.doesNotMatch(bad.all, /^\s+at /m, 'no stack trace');
    } finally {
      ws.write('nx.json', nxJson);
    }
  });
});
