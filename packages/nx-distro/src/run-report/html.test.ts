import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ReportTask, RunRecord } from './collect';
import { fmtMs, renderRunReport } from './html';
import { KEPT_REPORTS, LATEST, reportFileName, writeReportFiles } from './write';

const T0 = 1_764_000_000_000;
const task = (id: string, start: number | undefined, end: number | undefined, extra: Partial<ReportTask> = {}): ReportTask => {
  const [project, target, configuration] = id.split(':');
  return { id, project, target, configuration, kind: target === 'fetch' ? 'fetch' : 'build', status: 'success', cached: false, failed: false, dependencies: [], ...(start === undefined ? {} : { start: T0 + start, end: T0 + end! }), ...extra };
};

const run: RunRecord = {
  command: 'run-many -t build </script><script>alert(1)</script>',
  workspaceRoot: '/ws/<b>',
  start: T0 - 1000,
  end: T0 + 31_000,
  jobs: 2,
  notes: [],
  tasks: [
    task('zlib:fetch', 0, 2000),
    task('zlib:build:x86_64', 2000, 22_000, { dependencies: ['zlib:fetch'], steps: [{ phase: 'build', start: T0 + 3000, end: T0 + 21_000, ok: true, exit: '0' }] }),
    task('lua:build:x86_64', 0, 5, { cached: true, status: 'local-cache' }),
    task('zbroken:build:x86_64', 22_000, 30_000, { dependencies: ['zlib:build:x86_64'], failed: true, status: 'failure' }),
    task('system:build:x86_64', undefined, undefined, { dependencies: ['zbroken:build:x86_64'], status: 'skipped', kind: 'package' }),
  ],
};

test('the page: every task, the critical path marked, the totals, the data embedded, nothing unescaped, nothing from the network', () => {
  const html = renderRunReport(run);
  for (const t of run.tasks) assert.match(html, new RegExp(`<tr[^>]* data-task-id="${t.id}"`), `${t.id} in the table`);
  for (const t of run.tasks.filter((t) => t.start !== undefined)) assert.match(html, new RegExp(`<g class="[^"]*" data-task-id="${t.id}" data-start-ms="${t.start}" data-end-ms="${t.end}"`), `${t.id} in the timeline`);
  assert.doesNotMatch(html, /data-task-id="system:build:x86_64" data-start-ms/, 'a task that never started has no bar');
  assert.match(html, /<g class="task kind-build critical" data-task-id="zlib:build:x86_64"/);
  assert.match(html, /<g class="task kind-build failed critical" data-task-id="zbroken:build:x86_64"/);
  assert.match(html, /<g class="task kind-build cached" data-task-id="lua:build:x86_64"/);
  assert.match(html, /id="total-critical-path" data-ms="30000"/);
  assert.match(html, /id="total-work" data-ms="30005"/);
  assert.match(html, /id="total-bound" data-ms="30000"/);
  assert.match(html, /id="total-not-run" data-count="1"/);
  // Hostile text stays text; the embedded JSON cannot end its script element.
  assert.equal(html.match(/<script/g)!.length, 1, 'one script element: the JSON data');
  assert.match(html, /<code>nx run-many -t build &lt;\/script&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/code>/);
  const json = /<script type="application\/json" id="run-data">([^<]*)<\/script>/.exec(html);
  assert.ok(json);
  const data = JSON.parse(json[1]);
  assert.deepEqual(data.run, JSON.parse(JSON.stringify(run)));
  assert.deepEqual(data.analysis.criticalPath.path, ['zlib:fetch', 'zlib:build:x86_64', 'zbroken:build:x86_64']);
  assert.doesNotMatch(html, /\b(src|href)=|url\((?!#)|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no external resource');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
});

test('durations for people', () => {
  assert.deepEqual([4, 350, 12_345, 245_000, 3_725_000].map(fmtMs), ['4 ms', '0.35 s', '12.3 s', '4 min 05 s', '1 h 02 min']);
});

const dir = mkdtempSync(path.join(tmpdir(), 'run-report-write-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('reports: named by start, latest.html beside, written whole, the oldest removed past the limit', () => {
  assert.equal(reportFileName(Date.UTC(2026, 10, 22, 10, 0, 5, 123), 'a1b2c3d4e5f6'), '2026-11-22T10-00-05Z-a1b2c3d4.html');
  writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  for (let i = 0; i < KEPT_REPORTS + 3; i++) writeReportFiles(dir, reportFileName(Date.UTC(2026, 0, 1, 0, 0, i), `${i}`), `<p>${i}</p>`);
  const files = readdirSync(dir).sort();
  assert.equal(files.filter((f) => f.endsWith('.html') && f !== LATEST).length, KEPT_REPORTS);
  assert.ok(!files.includes(reportFileName(Date.UTC(2026, 0, 1, 0, 0, 2), '2')), 'the oldest are gone');
  assert.ok(files.includes('notes.txt'), 'other files are left alone');
  assert.ok(!files.some((f) => f.endsWith('.tmp')), 'no temporary file left');
  assert.equal(readFileSync(path.join(dir, LATEST), 'utf8'), `<p>${KEPT_REPORTS + 2}</p>`);
});
