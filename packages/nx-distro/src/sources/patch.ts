import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { escapeControls, ReportedError } from '../model/errors';

/** One patch to apply: the recipe's `patches[index]` entry, read. */
export interface PatchRequest {
  /**
   * The patch's bytes, read by the caller under input-file.ts's rule (GNU patch gets them on
   * its standard input, so it opens no file of the recipe itself).
   */
  readonly text: Buffer;
  /** The name shown in messages: workspace-relative path (`recipes/musl/fix.patch`). */
  readonly name: string;
}

/**
 * A patch that did not apply. `message` starts with one line naming the patch and the failed
 * hunks as GNU patch reported them, followed by the rejected hunk(s) (the `.rej` content). The
 * patch is the recipe's text: control characters are escaped in all of it (line breaks and
 * tabs of the hunks kept), so it sends no escape sequence to a terminal or log.
 */
export class PatchError extends ReportedError {
  constructor(
    message: string,
    readonly patchName: string,
    readonly rejected: string,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

/**
 * Applies patches in order to `srcdir` with GNU patch: `patch -p1 --forward --batch
 * --no-backup-if-mismatch` (`-p1` strips the `a/` and `b/` prefixes of git and quilt patches;
 * `--forward` refuses a patch that looks already applied instead of reversing it). GNU patch
 * itself refuses file names outside the tree ("potentially dangerous file name").
 * @param srcdir absolute source tree
 * @throws {PatchError} at the first patch that does not apply fully; the tree is then partly
 *   patched and must be thrown away (callers prepare sources in a scratch folder)
 */
export async function applyPatches(srcdir: string, patches: readonly PatchRequest[]): Promise<void> {
  for (const p of patches) {
    const rej = path.join(path.dirname(srcdir), `.${path.basename(srcdir)}.${process.pid}.rej`);
    await fs.rm(rej, { force: true });
    const r = await execa('patch', ['-p1', '--forward', '--batch', '--no-backup-if-mismatch', `--reject-file=${rej}`], {
      cwd: srcdir,
      input: p.text,
      reject: false,
      all: true,
      env: { LC_ALL: 'C' },
    });
    if (r.exitCode === 0) continue;
    const rejected = await fs.readFile(rej, 'utf8').catch(() => '');
    await fs.rm(rej, { force: true });
    // GNU patch names the file ("patching file src/a.c") before that file's hunk results.
    let current = '';
    const report: string[] = [];
    for (const raw of (r.all ?? '').split('\n')) {
      const line = raw.replace(/ -- saving rejects to file .*$/, '').trim();
      const m = /^(?:checking|patching) file '?([^']+?)'?$/.exec(line);
      if (m) current = m[1];
      else if (/^Hunk #\d+ FAILED/.test(line)) report.push(`${current}: ${line.replace(/\.$/, '')}`);
      else if (/can't find file|malformed|dangerous|Reversed|Only garbage|No file to patch/i.test(line)) report.push(line);
    }
    const summary = report.length ? report.join('; ') : `patch exited with ${r.exitCode}`;
    const hunks = rejected ? `\nrejected hunk(s):\n${escapeControls(rejected.trimEnd(), '\n\t')}` : '';
    throw new PatchError(`${escapeControls(`${p.name}: does not apply: ${summary}; refresh the patch against this version`)}${hunks}`, p.name, rejected);
  }
}
