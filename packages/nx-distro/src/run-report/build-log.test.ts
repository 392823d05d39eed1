import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBuildSteps, stepEndLine } from './build-log';

test('step lines are written and read back: times, exit status, a signal', () => {
  const log = [
    '# zlib for x86_64 (x86_64-linux-gnu), built on x86_64-linux-gnu',
    '',
    '==> configure',
    'Checking for gcc...',
    stepEndLine('configure', 1_764_700_000_123, 1_764_700_012_468, 0).trimEnd(),
    '',
    '==> build',
    'gcc -O2 -c adler32.c',
    stepEndLine('build', 1_764_700_012_470, 1_764_700_015_570, 2).trimEnd(),
    '',
    '==> install',
    stepEndLine('install', 1_764_700_016_000, 1_764_700_017_000, 'SIGKILL').trimEnd(),
    '',
  ].join('\n');
  assert.match(log, /^==> configure done: 12\.3 s \[start_ms=1764700000123 end_ms=1764700012468 exit=0\]$/m);
  assert.match(log, /^==> build failed: 3\.1 s \[start_ms=1764700012470 end_ms=1764700015570 exit=2\]$/m);
  assert.deepEqual(parseBuildSteps(log), [
    { phase: 'configure', start: 1_764_700_000_123, end: 1_764_700_012_468, ok: true, exit: '0' },
    { phase: 'build', start: 1_764_700_012_470, end: 1_764_700_015_570, ok: false, exit: '2' },
    { phase: 'install', start: 1_764_700_016_000, end: 1_764_700_017_000, ok: false, exit: 'signal:SIGKILL' },
  ]);
});

test('a log without step lines (an older one, or only the markers) has no steps', () => {
  assert.deepEqual(parseBuildSteps('==> configure\n./configure\n==> build\nmake\n'), []);
  assert.deepEqual(parseBuildSteps('make: ==> build done: 1 s [start_ms=1 end_ms=2 exit=0]\n'), [], 'only whole lines');
});
