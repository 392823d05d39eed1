import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeProblem, INPUT_FILE_FIX, readInputFile } from '../model/input-file';
import { escapeControls, InputError, quote, ReportedError } from '../model/errors';
import type { LoadedRecipe } from '../model/recipe';
import type { Source } from '../model/recipe.generated';
import { distfileName } from '../model/distfile';
import { detectArchive, extractArchive } from './extract';
import { distfileSha256 } from '../util/hash';
import { applyPatches } from './patch';

/** A source file of a prepared tree that is not what the recipe says. */
export class SourceVerificationError extends ReportedError {
  constructor(message: string) {
    super(escapeControls(message));
    this.name = 'SourceVerificationError';
  }
}

/** What {@link prepareSources} did, for logs. */
export interface PreparedSources {
  /** Absolute `srcdir`. */
  readonly srcdir: string;
  /** Distfiles unpacked (archives) or copied (other files), in recipe order. */
  readonly distfiles: readonly string[];
  /** Workspace-relative patch files applied, in order. */
  readonly patches: readonly string[];
}

/**
 * How one `sources` entry is unpacked: `extract: false` copies the file; `true` (the default)
 * unpacks an archive stripping one leading folder, like `tar --strip-components=1` on the usual
 * `name-version/` tarball; `{ strip, into }` sets both; `member` names an archive inside this
 * one that is unpacked instead (with `strip` and `into`). A file that is not a tar archive is copied.
 */
export function extractSettings(source: Source): { extract: boolean; strip: number; into?: string; member?: string } {
  const e = source.extract ?? true;
  if (e === false) return { extract: false, strip: 0 };
  if (e === true) return { extract: true, strip: 1 };
  return { extract: true, strip: e.strip ?? 1, into: e.into, ...(e.member ? { member: e.member } : {}) };
}

/**
 * Builds a recipe's `srcdir`: each distfile is re-verified against the recipe's sha256 (the
 * files may come from a remote cache), unpacked or copied in recipe order, then the patches are
 * applied in order (GNU patch -p1). Everything happens in a scratch folder beside `srcdir` that
 * is renamed into place only when all succeeded, so `srcdir` is either complete or absent.
 * @param workspaceRoot absolute workspace root (patch files are relative to the recipe folder in it)
 * @param distfilesDir absolute folder holding the verified distfiles (the `fetch` output)
 * @param srcdir absolute folder to create; an existing one is replaced
 * @throws {SourceVerificationError} a distfile is missing, not a regular file (never followed) or
 *   its sum differs from the recipe's
 * @throws {InputError} a patch file is missing, or not a regular file inside the recipe folder
 *   (input-file.ts's rule, checked again here: the recipe may have changed since the graph)
 * @throws {ArchiveError} an archive is unsafe or corrupt (extract.ts)
 * @throws {PatchError} a patch does not apply (patch.ts)
 */
export async function prepareSources(workspaceRoot: string, loaded: LoadedRecipe, distfilesDir: string, srcdir: string): Promise<PreparedSources> {
  const { recipe, file, root } = loaded;
  const scratch = path.join(path.dirname(srcdir), `.${path.basename(srcdir)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(scratch, { recursive: true });
  const distfiles: string[] = [];
  try {
    for (const [i, source] of (recipe.sources ?? []).entries()) {
      const name = distfileName(source);
      const distfile = path.join(distfilesDir, name);
      const actual = await distfileSha256(distfile);
      if (actual.kind === 'missing') throw new SourceVerificationError(`${file}: sources[${i}]: ${name} is missing from ${distfilesDir}; run the recipe's fetch target first`);
      if (actual.kind !== 'file') throw new SourceVerificationError(`${file}: sources[${i}]: ${distfile} is not a regular file; refusing to use it (run fetch again)`);
      if (actual.sha256 !== source.sha256) {
        throw new SourceVerificationError(`${file}: sources[${i}]: ${distfile} has sha256 ${actual.sha256}, expected ${source.sha256}; refusing to use it (run fetch again)`);
      }
      const how = extractSettings(source);
      const kind = how.extract ? await detectArchive(distfile) : null;
      if (kind && how.member) {
        // The outer archive is unpacked aside (as safely as any), then only the member.
        const outer = `${scratch}.outer`;
        try {
          await extractArchive(distfile, outer, { strip: 0 });
          const member = path.join(outer, how.member);
          const relative = path.relative(outer, member);
          const regular = await fs.lstat(member).then((st) => st.isFile(), () => false);
          if (relative.startsWith('..') || path.isAbsolute(relative) || !regular || !(await detectArchive(member).catch(() => null))) {
            throw new SourceVerificationError(`${file}: sources[${i}].extract.member: ${name} holds no archive ${how.member}; name one of its archives as the outer archive lists it (\`tar -tf ${name}\`)`);
          }
          await extractArchive(member, scratch, { strip: how.strip, into: how.into });
        } finally {
          await fs.rm(outer, { recursive: true, force: true });
        }
      } else if (kind) {
        await extractArchive(distfile, scratch, { strip: how.strip, into: how.into });
      } else {
        const dest = path.join(scratch, how.into ?? '', name);
        await fs.mkdir(path.dirname(dest), { recursive: true });
        await fs.copyFile(distfile, dest);
        await fs.chmod(dest, 0o644);
      }
      distfiles.push(name);
    }
    const patches = (recipe.patches ?? []).map((p, i) => {
      const name = `${root}/${p.file}`;
      const refuse = (problem: Parameters<typeof describeProblem>[1]) =>
        new InputError(file, `patches[${i}].file`, `${quote(p.file)}: ${describeProblem(name, problem)}`, problem.what === 'not found' ? 'add the patch file beside recipe.yaml' : INPUT_FILE_FIX);
      return { text: readInputFile(workspaceRoot, name, refuse), name };
    });
    await applyPatches(scratch, patches);
    await fs.rm(srcdir, { recursive: true, force: true });
    await fs.rename(scratch, srcdir);
    return { srcdir, distfiles, patches: patches.map((p) => p.name) };
  } catch (e) {
    await fs.rm(scratch, { recursive: true, force: true });
    throw e;
  }
}
