import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { pkgnameOfFile } from '../model/package-layout';
import { sha256File } from '../util/hash';

/**
 * Which second build a reproducibility check compares the package with:
 * - `rebuild`: the same recipe built again the same way (cross or native), in another work
 *   folder, at another wall-clock date, with another job count (Debian's reprotest);
 * - `native`: the same recipe built natively in the system target's Debian build root (QEMU user
 *   emulation for a foreign arch), compared with its cross-built package (Debian rebootstrap's
 *   ENABLE_DIFFOSCOPE).
 */
export type ReproducibilityCheck = 'rebuild' | 'native';

/** Every check, in report order. */
export const REPRODUCIBILITY_CHECKS: readonly ReproducibilityCheck[] = ['rebuild', 'native'];

/**
 * Outcome of one check:
 * - `reproducible`: both builds wrote the same package, byte for byte;
 * - `differs`: the packages differ (diffoscope's report beside the result), or only one build wrote one;
 * - `no-package`: neither build writes a package for this system target (the toolchain stands in
 *   for the recipe, its arch list excludes the target's, or it has no install step);
 * - `not-applicable`: a `native` check of a recipe whose build is native already (`cross: false`,
 *   or a system target with `builds: native`): there is no cross-built package to compare.
 */
export type ReproducibilityStatus = 'reproducible' | 'differs' | 'no-package' | 'not-applicable';

/** One built package of a check. */
export interface CheckedPackage {
  /** Workspace-relative path of the `.pkg.tar.zst`. */
  readonly file: string;
  /** sha256 of its bytes, 64 hex digits. */
  readonly sha256: string;
  /** Its size in bytes. */
  readonly size: number;
}

/**
 * `result.json` of one check, in `<distDir>/<systemTarget>/reproduce/<recipe>/<check>/`. It holds
 * no time or path of the machine, so it is itself reproducible and cacheable.
 */
export interface ReproducibilityResult {
  readonly recipe: string;
  /** System target name (a file `targets/<name>.yaml`). */
  readonly systemTarget: string;
  readonly check: ReproducibilityCheck;
  readonly status: ReproducibilityStatus;
  /** The package of the `build` task, `null` when it wrote none. */
  readonly first: CheckedPackage | null;
  /** The package of the second build, `null` when it wrote none (or did not run). */
  readonly second: CheckedPackage | null;
  /** What differed between the two builds, one phrase each (`work folder tmp/reproduce/...`). */
  readonly variations: readonly string[];
  /** Workspace-relative path of diffoscope's text report when the packages differ. */
  readonly diffoscope?: string;
  /**
   * The recipe's split packages (`subpackages`, `split`: the other packages of the same build),
   * each compared the same way, by file name; `status` above is `differs` when any of them
   * differs. Absent for a recipe without split packages.
   */
  readonly splits?: readonly SplitComparison[];
}

/** One split package of a check: its file name and how the two builds' copies compare. */
export interface SplitComparison extends Pick<ReproducibilityResult, 'status' | 'first' | 'second' | 'diffoscope'> {
  /** The package file's name (`zlib-dev-1.2.13-1-aarch64.pkg.tar.zst`). */
  readonly package: string;
}

/** File name of a check's result. */
export const RESULT_FILE = 'result.json';

/** File name of diffoscope's text report beside a result. */
export const DIFFOSCOPE_REPORT = 'diffoscope.txt';

/** Seconds diffoscope may run on one pair of packages before it is stopped: 30 minutes. */
export const DIFFOSCOPE_TIMEOUT_SECONDS = 30 * 60;

/** Bytes of diffoscope's report kept at most (its `--max-report-size`): 20 MiB. */
export const DIFFOSCOPE_MAX_REPORT_BYTES = 20 * 1024 ** 2;

/**
 * The packages (`*.pkg.tar.zst`) a build wrote into `dir`: the one of the recipe's name and its
 * split packages (packages/split.ts), each `<pkgname>-<pkgver>-<pkgrel>-<arch>.pkg.tar.zst`.
 * @param dir absolute output folder of a build
 * @param recipeName the recipe's name: the package of that name is `main`
 * @returns absolute paths: `main` (undefined when the build wrote none: a no-op build, or a
 *   folder that does not exist) and the others by file name, sorted
 */
export async function builtPackages(dir: string, recipeName: string): Promise<{ main: string | undefined; splits: ReadonlyMap<string, string> }> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.pkg.tar.zst') && !n.startsWith('.')).sort();
  } catch {
    return { main: undefined, splits: new Map() };
  }
  const main = names.find((n) => pkgnameOfFile(n) === recipeName);
  return { main: main && path.join(dir, main), splits: new Map(names.filter((n) => n !== main).map((n) => [n, path.join(dir, n)])) };
}

/**
 * Compares the split packages of two builds by file name ({@link comparePackages} for each, its
 * diffoscope report in `<reportDir>/split/<file name>/`), a package only one build wrote counting
 * as `differs`.
 * @returns the comparisons by file name, sorted; empty when neither build wrote a split package
 */
export async function compareSplitPackages(root: string, first: ReadonlyMap<string, string>, second: ReadonlyMap<string, string>, reportDir: string): Promise<SplitComparison[]> {
  const out: SplitComparison[] = [];
  for (const name of [...new Set([...first.keys(), ...second.keys()])].sort()) {
    const dir = path.join(reportDir, 'split', name.replace(/\.pkg\.tar\.zst$/, ''));
    await fs.mkdir(dir, { recursive: true });
    out.push({ package: name, ...(await comparePackages(root, first.get(name), second.get(name), dir)) });
  }
  return out;
}

/**
 * A package's workspace-relative path, sha256 and size.
 * @param root absolute workspace root
 * @param file absolute path, or `undefined` for none
 * @returns `null` for none
 */
export async function describePackage(root: string, file: string | undefined): Promise<CheckedPackage | null> {
  if (!file) return null;
  const st = await fs.stat(file);
  return { file: path.relative(root, file), sha256: await sha256File(file), size: st.size };
}

/**
 * Compares two builds' packages byte for byte; when they differ and both exist, runs
 * `diffoscope --text` on them (the Reproducible Builds project's tool; it unpacks the zstd tar,
 * the `.PKGINFO`/`.BUILDINFO`/`.MTREE` and ELF files and shows what differs inside) and writes its
 * report to `<reportDir>/diffoscope.txt`.
 * @param root absolute workspace root (the result's paths are relative to it)
 * @param first absolute path of the first package, `undefined` when the build wrote none
 * @param second absolute path of the second package, `undefined` when it wrote none
 * @param reportDir absolute folder for diffoscope's report
 * @returns status, both packages described, the report's workspace-relative path when written
 * @throws {Error} `diffoscope is not on PATH ...` when a difference needs it and it is missing
 */
export async function comparePackages(
  root: string,
  first: string | undefined,
  second: string | undefined,
  reportDir: string,
): Promise<Pick<ReproducibilityResult, 'status' | 'first' | 'second' | 'diffoscope'>> {
  const a = await describePackage(root, first);
  const b = await describePackage(root, second);
  if (!a && !b) return { status: 'no-package', first: a, second: b };
  if (a && b && a.sha256 === b.sha256) return { status: 'reproducible', first: a, second: b };
  if (!a || !b) return { status: 'differs', first: a, second: b };
  const report = path.join(reportDir, DIFFOSCOPE_REPORT);
  await runDiffoscope(first!, second!, report);
  return { status: 'differs', first: a, second: b, diffoscope: path.relative(root, report) };
}

/**
 * Runs diffoscope on two files and writes its text report (exit 1, "differences found", is its
 * normal answer here; the report is written to a temporary name, then renamed).
 * @throws {Error} when diffoscope is missing, fails (exit > 1), or runs past {@link DIFFOSCOPE_TIMEOUT_SECONDS}
 */
export async function runDiffoscope(a: string, b: string, reportFile: string): Promise<void> {
  const tmp = `${reportFile}.tmp-${process.pid}`;
  const r = await execa('diffoscope', [
    '--text', tmp,
    '--no-progress',
    '--max-report-size', String(DIFFOSCOPE_MAX_REPORT_BYTES),
    a, b,
  ], { reject: false, timeout: DIFFOSCOPE_TIMEOUT_SECONDS * 1000, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  if ((r as { code?: string }).code === 'ENOENT') throw new Error('diffoscope is not on PATH; fix: run tools/setup-host (or apt-get install diffoscope-minimal)');
  if (r.timedOut) throw new Error(`diffoscope ran longer than ${DIFFOSCOPE_TIMEOUT_SECONDS} s on ${a} and ${b}`);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`diffoscope failed (exit ${r.exitCode ?? r.signal}) on ${a} and ${b}: ${String(r.stderr).trim().split('\n').slice(-3).join(' / ')}`);
  await fs.rename(tmp, reportFile);
}

/**
 * Writes a check's result as JSON (2-space indent, trailing newline) to `<dir>/result.json`:
 * first to a temporary name, then renamed.
 */
export async function writeResult(dir: string, result: ReproducibilityResult): Promise<void> {
  const file = path.join(dir, RESULT_FILE);
  await fs.writeFile(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  await fs.rename(`${file}.tmp`, file);
}
