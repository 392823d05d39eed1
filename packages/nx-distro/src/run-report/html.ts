import { assignLanes, criticalPath, durationMs, runTotals, type CriticalPath, type RunTotals } from './analysis';
import { TASK_KINDS, type ReportTask, type RunRecord, type TaskKind } from './collect';

/** Fill colour of each kind (Tableau 10: tells the kinds apart, also in grey). */
const KIND_COLOUR: Readonly<Record<TaskKind, string>> = {
  fetch: '#4e79a7',
  setup: '#9c755f',
  build: '#f28e2b',
  package: '#59a14f',
  image: '#b07aa1',
  check: '#76b7b2',
  other: '#bab0ac',
};

/** Shade of each part of a build inside its bar: the steps in oranges (darker = later), the plugin's own work before and after them in greys. */
const STEP_SHADE: Readonly<Record<string, string>> = {
  staging: '#d3d8df',
  prepare: '#fde0b8',
  configure: '#f9bb77',
  build: '#e8872a',
  check: '#c96f1c',
  install: '#8f4a0f',
  packaging: '#8d96a3',
};

/** The parts of a build in the legend: staging is the task's start to its first step (the executor starting, the sysroot staged, the sources unpacked), packaging its last step to its end (the package and abi.json written). */
const STEP_LEGEND: readonly (readonly [string, string])[] = [
  ['staging', 'staging (sysroot, sources)'],
  ['prepare', 'prepare'],
  ['configure', 'configure'],
  ['build', 'build'],
  ['check', 'check'],
  ['install', 'install'],
  ['packaging', 'packaging'],
];

/** The figures {@link renderRunReport} shows, computed once. */
export interface RunAnalysis {
  readonly critical: CriticalPath;
  readonly totals: RunTotals;
  /** Task id -> worker lane (0-based) for every timed task. */
  readonly lanes: ReadonlyMap<string, number>;
  /** Problems met while computing, one sentence each. */
  readonly notes: readonly string[];
}

/** The critical path, the totals and the lanes of a run. */
export function analyzeRun(run: RunRecord): RunAnalysis {
  const notes: string[] = [];
  let critical: CriticalPath;
  try {
    critical = criticalPath(run.tasks);
  } catch (e) {
    notes.push(`no critical path: ${(e as Error).message}`);
    critical = { path: [], durationMs: 0 };
  }
  return { critical, totals: runTotals(run.tasks, run.start, run.end, run.jobs, critical), lanes: assignLanes(run.tasks), notes };
}

/**
 * The run report: one self-contained HTML page (inline CSS and SVG, no script, nothing loaded
 * from the network) with the totals, a timeline of every task per worker (coloured by kind,
 * pale when from a cache, red when failed, the critical path outlined and joined), the
 * critical path, the slowest packages with their build steps, and a table of every task. The
 * run's data is embedded as JSON (`<script type="application/json" id="run-data">`): the
 * {@link RunRecord} plus the analysis.
 * Elements a reader (or a test) can find: `[data-task-id]` (one `g.task` in the timeline per
 * timed task with `data-start-ms`/`data-end-ms`, milliseconds since the epoch, and `data-lane`;
 * one `tr` per task in `#tasks`), `.critical` on the critical path's, `#total-<name>` with
 * `data-ms` (wall, span, work, critical-path, bound) or `data-count` (jobs, tasks, cache-hits,
 * ran, failed, not-run).
 */
export function renderRunReport(run: RunRecord, analysis: RunAnalysis = analyzeRun(run)): string {
  const { critical, totals } = analysis;
  const onPath = new Set(critical.path);
  const failed = run.tasks.filter((t) => t.failed);
  const outcome = failed.length ? `${failed.length} failed` : totals.notRun ? `${totals.notRun} not run` : 'succeeded';
  const data = { run, analysis: { criticalPath: critical, totals, lanes: Object.fromEntries(analysis.lanes), notes: analysis.notes } };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>nx-distro run: ${esc(run.command)} (${esc(outcome)})</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>nx-distro run <span class="outcome ${failed.length ? 'bad' : 'good'}">${esc(outcome)}</span></h1>
<p class="command"><code>nx ${esc(run.command)}</code></p>
<p class="meta">started ${esc(new Date(run.start).toISOString())} in <code>${esc(run.workspaceRoot)}</code></p>
</header>
${totalsSection(totals)}
${timelineSection(run, analysis, onPath)}
${criticalSection(run, critical)}
${slowestSection(run)}
${tasksSection(run, analysis, onPath)}
${notesSection(run, analysis)}
<script type="application/json" id="run-data">${jsonForScript(data)}</script>
</body>
</html>
`;
}

const CSS = `
:root { --ink: #1d2330; --muted: #5d6675; --rule: #dde1e7; --bg: #ffffff; --panel: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 40px; font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); background: var(--bg); }
header h1 { margin: 0 0 4px; font-size: 22px; }
.outcome { font-size: 14px; padding: 2px 10px; border-radius: 10px; vertical-align: middle; margin-left: 8px; }
.outcome.good { background: #dff3e0; color: #1d6b2a; }
.outcome.bad { background: #fbe0e0; color: #a31b1b; }
.command { margin: 2px 0; font-size: 15px; }
.meta { margin: 0 0 14px; color: var(--muted); font-size: 12px; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.92em; }
h2 { font-size: 16px; margin: 26px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
.totals { display: grid; grid-template-columns: repeat(6, minmax(150px, 1fr)); gap: 10px; margin: 0; }
.totals div { background: var(--panel); border-radius: 6px; padding: 8px 12px; }
.totals dt { color: var(--muted); font-size: 12px; }
.totals dd { margin: 2px 0 0; font-size: 19px; font-weight: bold; }
.totals dd small { font-size: 12px; font-weight: normal; color: var(--muted); }
.totals dd small.sub { display: block; }
.totals .key { outline: 2px solid #1d2330; outline-offset: -2px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 6px 0 8px; font-size: 12px; color: var(--muted); align-items: center; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.swatch { width: 14px; height: 14px; border-radius: 3px; display: inline-block; }
.timeline { overflow-x: auto; border: 1px solid var(--rule); border-radius: 6px; background: #fff; }
svg text { font-family: "DejaVu Sans", sans-serif; }
.task rect.bar { stroke: rgba(0,0,0,0.25); stroke-width: 0.6; }
.task.cached rect.bar { fill-opacity: 0.35; stroke-dasharray: 2 2; }
.task.failed rect.bar { fill: #e15759; stroke: #7d1010; stroke-width: 1.5; }
.task.critical rect.bar { stroke: #111; stroke-width: 2.4; }
.task text { font-size: 11px; fill: #111; pointer-events: none; }
.axis text { font-size: 11px; fill: var(--muted); }
.axis line { stroke: var(--rule); }
.lane-label { font-size: 12px; fill: var(--muted); }
.path-link { stroke: #111; stroke-width: 1.4; stroke-dasharray: 4 3; fill: none; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td { background: #fdecec; }
tr.critical td:first-child { box-shadow: inset 3px 0 0 #111; }
.status-failure { color: #a31b1b; font-weight: bold; }
.status-cached { color: var(--muted); }
.kind-dot { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 5px; }
ol.path { margin: 4px 0; padding-left: 22px; }
ol.path li { margin: 1px 0; }
.steps { display: flex; height: 12px; width: 260px; border-radius: 3px; overflow: hidden; background: #eee; }
.steps span { display: block; height: 100%; }
.step-list { color: var(--muted); font-size: 11.5px; }
.notes { color: var(--muted); font-size: 12.5px; }
.notes li { margin: 2px 0; }
`;

function totalsSection(t: RunTotals): string {
  const ms = (id: string, label: string, value: number, extra = '', key = false) =>
    `<div${key ? ' class="key"' : ''}><dt>${label}</dt><dd id="total-${id}" data-ms="${Math.round(value)}">${fmtMs(value)}${extra}</dd></div>`;
  const count = (id: string, label: string, value: number, extra = '') => `<div><dt>${label}</dt><dd id="total-${id}" data-count="${value}">${value}${extra}</dd></div>`;
  const ratio = t.boundMs > 0 ? `<small class="sub">the wall time is ${(t.wallMs / t.boundMs).toFixed(2)}x this</small>` : '';
  return `<section>
<dl class="totals">
${ms('wall', 'wall time (Nx: hashing to last task)', t.wallMs, '', true)}
${ms('span', "tasks' span (first start to last end)", t.spanMs)}
${ms('work', 'work (sum of task times)', t.workMs)}
${ms('critical-path', 'critical path', t.criticalPathMs)}
${count('jobs', 'jobs (Nx --parallel)', t.jobs, `<small class="sub">work / jobs = ${fmtMs(t.workMs / t.jobs)}</small>`)}
${ms('bound', `bound: max(critical path, work / jobs) <small>= ${t.boundBy}</small>`, t.boundMs, ratio, true)}
${count('tasks', 'tasks', t.tasks)}
${count('cache-hits', 'cache hits', t.cacheHits, t.tasks ? ` <small>${Math.round((100 * t.cacheHits) / t.tasks)}%</small>` : '')}
${count('ran', 'ran', t.ran)}
${count('failed', 'failed', t.failed)}
${count('not-run', 'not run (skipped)', t.notRun)}
</dl>
</section>`;
}

const ROW = 30;
const BAR = 22;
const LEFT = 86;
const CHART = 1180;
const TOP = 26;

function timelineSection(run: RunRecord, analysis: RunAnalysis, onPath: ReadonlySet<string>): string {
  const { lanes } = analysis;
  const laneCount = Math.max(1, ...[...lanes.values()].map((l) => l + 1));
  const span = Math.max(1, run.end - run.start);
  const x = (t: number) => LEFT + (Math.min(Math.max(t, run.start), run.end) - run.start) * (CHART / span);
  const height = TOP + laneCount * ROW + 8;
  const parts: string[] = [];
  parts.push(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="2" height="6" fill="rgba(0,0,0,0.18)"/></pattern></defs>`);
  // Time axis: a tick every "round" step, about ten across.
  const stepMs = niceStep(span / 10);
  parts.push('<g class="axis">');
  for (let t = 0; t <= span + 1; t += stepMs) {
    const px = LEFT + t * (CHART / span);
    parts.push(`<line x1="${n(px)}" y1="${TOP - 4}" x2="${n(px)}" y2="${height - 4}"/><text x="${n(px)}" y="${TOP - 8}" text-anchor="middle">${fmtTick(t, stepMs)}</text>`);
  }
  parts.push('</g>');
  for (let l = 0; l < laneCount; l++) {
    const y = TOP + l * ROW;
    if (l % 2 === 1) parts.push(`<rect x="${LEFT}" y="${y}" width="${CHART}" height="${ROW}" fill="#f7f8fa"/>`);
    parts.push(`<text class="lane-label" x="8" y="${y + ROW / 2 + 4}">worker ${l + 1}</text>`);
  }
  // Before the first task: Nx planning and hashing, shaded.
  const timed = run.tasks.filter((t) => lanes.has(t.id));
  if (timed.length) {
    const first = Math.min(...timed.map((t) => t.start!));
    if (first > run.start) parts.push(`<rect x="${LEFT}" y="${TOP}" width="${n(x(first) - LEFT)}" height="${laneCount * ROW}" fill="url(#hatch)" opacity="0.5"><title>Nx before the first task: task graph, hashing, cache lookups (${fmtMs(first - run.start)})</title></rect>`);
  }
  const barOf = (t: ReportTask) => {
    const lane = lanes.get(t.id)!;
    const x0 = x(t.start!);
    // A cache hit lasts milliseconds: drawn a little wider so it stays visible.
    const w = Math.max(t.cached ? 4 : 2, x(t.end!) - x0);
    return { x0, w, y: TOP + lane * ROW + (ROW - BAR) / 2, lane };
  };
  // The critical path's links (a task's end to the next one's start), under the bars.
  const byId = new Map(run.tasks.map((t) => [t.id, t]));
  const pathTasks = analysis.critical.path.map((id) => byId.get(id)).filter((t): t is ReportTask => !!t && lanes.has(t.id));
  for (let i = 1; i < pathTasks.length; i++) {
    const a = barOf(pathTasks[i - 1]);
    const b = barOf(pathTasks[i]);
    parts.push(`<path class="path-link" d="M${n(a.x0 + a.w)} ${n(a.y + BAR / 2)} L${n(b.x0)} ${n(b.y + BAR / 2)}"/>`);
  }
  // Longer tasks first, so a short one drawn over it stays visible.
  for (const t of [...timed].sort((a, b) => durationMs(b) - durationMs(a) || (a.id < b.id ? -1 : 1))) {
    const { x0, w, y, lane } = barOf(t);
    const classes = ['task', `kind-${t.kind}`, t.cached ? 'cached' : '', t.failed ? 'failed' : '', onPath.has(t.id) ? 'critical' : ''].filter(Boolean).join(' ');
    const steps = (t.steps ?? []).map((s) => `${s.phase} ${fmtMs(s.end - s.start)}${s.ok ? '' : ` (exit ${s.exit})`}`);
    const title = [`${t.id}`, `${t.kind}, ${statusText(t)}`, `${fmtMs(durationMs(t))}, from +${fmtMs(t.start! - run.start)}`, onPath.has(t.id) ? 'on the critical path' : '', steps.length ? `steps: ${steps.join(', ')}` : '']
      .filter(Boolean)
      .join('\n');
    const g = [`<g class="${classes}" data-task-id="${esc(t.id)}" data-start-ms="${t.start}" data-end-ms="${t.end}" data-lane="${lane}">`, `<title>${esc(title)}</title>`];
    g.push(`<rect class="bar" x="${n(x0)}" y="${n(y)}" width="${n(w)}" height="${BAR}" rx="2" fill="${KIND_COLOUR[t.kind]}"/>`);
    if (t.steps?.length && !t.cached) {
      // The steps as a band along the bar's lower half: staging before the first, packaging after the last.
      const bands = stepBands(t);
      for (const b of bands) {
        const bx = x(b.start);
        const bw = Math.max(0, x(b.end) - bx);
        if (bw < 0.5) continue;
        g.push(`<rect x="${n(bx)}" y="${n(y + BAR * 0.55)}" width="${n(bw)}" height="${n(BAR * 0.45 - 1)}" fill="${STEP_SHADE[b.phase] ?? '#ddd'}"${b.ok ? '' : ' stroke="#7d1010"'}/>`);
      }
    }
    const label = `${t.failed ? '✗ ' : ''}${t.target === 'build' ? t.project : `${t.project}:${t.target}`}`;
    const fits = Math.floor((w - 6) / 6.6);
    if (fits >= 3) g.push(`<text x="${n(x0 + 4)}" y="${n(y + (t.steps?.length && !t.cached ? 10.5 : BAR / 2 + 4))}">${esc(label.length > fits ? `${label.slice(0, Math.max(1, fits - 1))}…` : label)}</text>`);
    g.push('</g>');
    parts.push(g.join(''));
  }
  const legend = [
    ...TASK_KINDS.filter((k) => run.tasks.some((t) => t.kind === k)).map((k) => `<span><i class="swatch" style="background:${KIND_COLOUR[k]}"></i>${k}</span>`),
    `<span><i class="swatch" style="background:${KIND_COLOUR.build};opacity:0.35;border:1px dashed #555"></i>from a cache</span>`,
    `<span><i class="swatch" style="background:#e15759;border:1.5px solid #7d1010"></i>failed</span>`,
    `<span><i class="swatch" style="border:2.4px solid #111"></i>critical path (dashed: its links)</span>`,
    `<span>a build's lower half: ${STEP_LEGEND.map(([p, label]) => `<i class="swatch" style="background:${STEP_SHADE[p]}"></i>${label}`).join(' ')}</span>`,
  ];
  const notRun = run.tasks.filter((t) => !lanes.has(t.id)).map((t) => t.id).sort();
  return `<section>
<h2>Timeline: every task per worker (${timed.length} with timings)</h2>
<div class="legend">${legend.join('')}</div>
<div class="timeline"><svg xmlns="http://www.w3.org/2000/svg" width="${LEFT + CHART + 16}" height="${height}" viewBox="0 0 ${LEFT + CHART + 16} ${height}">${parts.join('\n')}</svg></div>
${notRun.length ? `<p class="notes">Not started, so not drawn: ${notRun.map((id) => `<code>${esc(id)}</code>`).join(' ')}</p>` : ''}
</section>`;
}

/** A build's time split: staging (task start to first step), each step, packaging (last step to task end). */
function stepBands(t: ReportTask): { phase: string; start: number; end: number; ok: boolean }[] {
  const steps = t.steps ?? [];
  if (!steps.length || t.start === undefined || t.end === undefined) return [];
  const bands = [{ phase: 'staging', start: t.start, end: Math.max(t.start, steps[0].start), ok: true }];
  for (const s of steps) bands.push({ phase: s.phase, start: s.start, end: s.end, ok: s.ok });
  const last = steps[steps.length - 1];
  if (last.ok) bands.push({ phase: 'packaging', start: last.end, end: Math.max(last.end, t.end), ok: true });
  return bands;
}

function criticalSection(run: RunRecord, critical: CriticalPath): string {
  const byId = new Map(run.tasks.map((t) => [t.id, t]));
  const items = critical.path.map((id) => {
    const t = byId.get(id)!;
    return `<li class="critical" data-task-id="${esc(id)}"><code>${esc(id)}</code> ${fmtMs(durationMs(t))} <span class="status-${statusClass(t)}">${esc(statusText(t))}</span></li>`;
  });
  return `<section id="critical-path">
<h2>Critical path: ${critical.path.length} task(s), ${fmtMs(critical.durationMs)}</h2>
<p class="notes">The longest chain of tasks each depending on the one before, by their real durations in this run: with unlimited workers the run could end no sooner.</p>
${items.length ? `<ol class="path">${items.join('\n')}</ol>` : '<p>No task ran.</p>'}
</section>`;
}

function slowestSection(run: RunRecord): string {
  const builds = run.tasks.filter((t) => t.kind === 'build' && !t.cached && t.start !== undefined).sort((a, b) => durationMs(b) - durationMs(a) || (a.id < b.id ? -1 : 1)).slice(0, 10);
  const rows = builds.map((t) => {
    const total = Math.max(1, durationMs(t));
    const bands = stepBands(t);
    const bar = bands.length ? `<div class="steps">${bands.map((b) => `<span style="width:${((100 * (b.end - b.start)) / total).toFixed(2)}%;background:${STEP_SHADE[b.phase] ?? '#ddd'}" title="${esc(`${b.phase} ${fmtMs(b.end - b.start)}`)}"></span>`).join('')}</div>` : '';
    const list = bands.map((b) => `${b.phase} ${fmtMs(b.end - b.start)}${b.ok ? '' : ' ✗'}`).join(' · ');
    return `<tr class="${t.failed ? 'failed' : ''}" data-slow-task-id="${esc(t.id)}"><td><code>${esc(t.project)}</code></td><td>${esc(t.configuration ?? '')}</td><td class="num">${fmtMs(durationMs(t))}</td><td class="status-${statusClass(t)}">${esc(statusText(t))}</td><td>${bar}<div class="step-list">${esc(list || 'no step times in its log')}</div></td><td>${t.log ? `<code>${esc(t.log)}</code>` : ''}</td></tr>`;
  });
  return `<section id="slowest">
<h2>Slowest packages (builds that ran)</h2>
${rows.length ? `<table><thead><tr><th>package</th><th>system target</th><th class="num">time</th><th>status</th><th>steps (from build.log)</th><th>log</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>` : '<p class="notes">No build ran in this run (all from the cache, or none asked for).</p>'}
</section>`;
}

function tasksSection(run: RunRecord, analysis: RunAnalysis, onPath: ReadonlySet<string>): string {
  const sorted = [...run.tasks].sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity) || (a.id < b.id ? -1 : 1));
  const rows = sorted.map((t) => {
    const lane = analysis.lanes.get(t.id);
    const cls = [t.failed ? 'failed' : '', onPath.has(t.id) ? 'critical' : ''].filter(Boolean).join(' ');
    return `<tr${cls ? ` class="${cls}"` : ''} data-task-id="${esc(t.id)}" data-status="${esc(t.status)}"><td><i class="kind-dot" style="background:${KIND_COLOUR[t.kind]}"></i><code>${esc(t.id)}</code></td><td>${t.kind}</td><td class="status-${statusClass(t)}">${esc(statusText(t))}</td><td class="num">${lane === undefined ? '' : lane + 1}</td><td class="num">${t.start === undefined ? '' : `+${fmtMs(t.start - run.start)}`}</td><td class="num">${t.start === undefined ? '' : fmtMs(durationMs(t))}</td><td>${onPath.has(t.id) ? 'yes' : ''}</td><td>${t.dependencies.map((d) => `<code>${esc(d)}</code>`).join(' ')}</td></tr>`;
  });
  return `<section id="tasks">
<h2>Every task (${run.tasks.length})</h2>
<table><thead><tr><th>task</th><th>kind</th><th>status</th><th class="num">worker</th><th class="num">start</th><th class="num">time</th><th>critical</th><th>depends on</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</section>`;
}

function notesSection(run: RunRecord, analysis: RunAnalysis): string {
  const notes = [
    ...run.notes,
    ...analysis.notes,
    "Times are Nx's own: each task's start and end as Nx recorded them (task.startTime and task.endTime, what NX_PROFILE's trace holds too); the wall time is Nx's run window, from before hashing the task graph to after the last task.",
    "Workers are Nx's slots as Nx hands them out (the lowest free one when a task starts), rebuilt from those times; cache hits Nx restores together share one.",
    "Dependencies are Nx's task graph for this run; build steps come from each build's build.log (the ==> <phase> done lines), for builds that ran in this run.",
  ];
  return `<section id="notes"><h2>Where the figures come from</h2><ul class="notes">${notes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul></section>`;
}

function statusText(t: ReportTask): string {
  if (t.cached) return t.status === 'remote-cache' ? 'from the remote cache' : 'from the local cache';
  if (t.status === 'success') return 'ran';
  if (t.status === 'failure') return 'failed';
  if (t.status === 'skipped') return 'not run (a dependency failed)';
  if (t.status === 'not-run') return 'not run';
  return t.status;
}

function statusClass(t: ReportTask): string {
  return t.cached ? 'cached' : t.status.replace(/[^a-z-]/g, '');
}

/**
 * A duration for people: `4 ms`, `0.35 s`, `12.3 s`, `4 min 05 s`, `1 h 02 min`.
 * @param ms milliseconds
 */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 100) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function fmtTick(ms: number, step: number): string {
  if (step < 1000) return `${(ms / 1000).toFixed(step < 100 ? 2 : 1)} s`;
  if (step < 60_000) return `${Math.round(ms / 1000)} s`;
  const m = ms / 60_000;
  return m < 60 ? `${Number.isInteger(m) ? m : m.toFixed(1)} min` : `${(m / 60).toFixed(m % 60 ? 1 : 0)} h`;
}

/** A round tick step (1, 2, 5 x 10^k ms; then 10 s, 15 s, 30 s, minutes...) near `raw` milliseconds. */
function niceStep(raw: number): number {
  const steps = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000];
  return steps.find((s) => s >= raw) ?? Math.ceil(raw / 3_600_000) * 3_600_000;
}

function n(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Escapes text for HTML content and attribute values. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a `<script>` element: no `</script>`, no `<!--`. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
