#!/usr/bin/env node
// Prints what a native build root made on this machine depends on besides the target files:
// the build machine's Debian release (/etc/os-release), its apt sources (every
// sources.list / *.list / *.sources file apt reads), and the mmdebstrap version. Nx runs it as a
// runtime input of `system:buildroot`, so pointing apt at another mirror or snapshot, or
// upgrading the machine, makes a new build root. (The archive itself moving on under the same
// sources is not seen: pin a snapshot.debian.org URL in the sources for that.)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const lines = [];
const read = (f) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return undefined;
  }
};
const release = read('/etc/os-release') ?? '';
lines.push(...release.split('\n').filter((l) => /^(ID|VERSION_ID|VERSION_CODENAME)=/.test(l)));
const files = ['/etc/apt/sources.list'];
try {
  for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
    if (f.endsWith('.list') || f.endsWith('.sources')) files.push(path.join('/etc/apt/sources.list.d', f));
  }
} catch {} // no sources.list.d
for (const f of files) {
  const text = read(f);
  if (text === undefined) continue;
  lines.push(`# ${f}`, ...text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
}
try {
  lines.push(execFileSync('mmdebstrap', ['--version'], { encoding: 'utf8' }).trim());
} catch {
  lines.push('mmdebstrap: missing');
}
process.stdout.write(lines.join('\n') + '\n');
