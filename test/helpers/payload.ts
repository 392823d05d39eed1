/**
 * Compares two pacman packages' payloads beyond what the compilers' identities write into
 * them, for the cross-vs-native check (test/reproducibility.test.ts): a cross compiler and a
 * native one of the same GCC release put their own version strings into every object's
 * `.comment` section (GCC's `-fident`), and the linker's build ID (`.note.gnu.build-id`,
 * a hash over the whole output) then differs too; so does a stripped file's `.gnu_debuglink`
 * (packages/debug-info.ts), which holds the CRC of its debug file, whose `DW_AT_producer` names the
 * compiler. Everything else must be the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The package's metadata files (makepkg's), which name sizes and sums of the payload. */
const METADATA = new Set(['.PKGINFO', '.BUILDINFO', '.MTREE', '.INSTALL']);

/** The ELF sections that hold the compiler's and linker's identity (see the module comment). */
export const IDENTITY_SECTIONS = ['.comment', '.note.gnu.build-id', '.gnu_debuglink'] as const;

/** Every entry under `dir`, as `/`-separated paths relative to it, folders left out. */
function entries(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...entries(dir, p));
    else out.push(p);
  }
  return out;
}

/**
 * An ELF file's or an ar archive's (a static library: its ELF members) bytes with
 * {@link IDENTITY_SECTIONS} removed (`objcopy -R`, which rewrites each member of an archive, with
 * Debian's deterministic member headers), else its bytes.
 */
function withoutIdentity(file: string, objcopy: string, scratch: string): Buffer {
  const bytes = readFileSync(file);
  if (bytes.subarray(0, 4).toString('latin1') !== '\x7fELF' && bytes.subarray(0, 8).toString('latin1') !== '!<arch>\n') return bytes;
  const out = path.join(scratch, 'stripped');
  execFileSync(objcopy, [...IDENTITY_SECTIONS.flatMap((s) => ['-R', s]), file, out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stripped = readFileSync(out);
  rmSync(out);
  return stripped;
}

/**
 * The payload paths of two packages that differ beyond {@link IDENTITY_SECTIONS}: a file in one
 * package only, a different permission mode, a different symlink target, different bytes of a non-ELF file, or different bytes
 * of an ELF file or a static library once `objcopy -R .comment -R .note.gnu.build-id` has removed both sections from
 * each copy. The package metadata (.PKGINFO, .BUILDINFO, .MTREE) is left out: it records the
 * payload's sizes and sums, which those sections change.
 *
 * @param first absolute path of a `.pkg.tar.zst` (or any archive bsdtar reads)
 * @param second absolute path of the other
 * @param objcopy the objcopy that reads the packages' ELF files, e.g. `aarch64-linux-gnu-objcopy`
 * @returns sorted paths relative to the package root (`usr/lib/libz.so.1.2.13`), each with
 *   ` (only in the first)` / ` (only in the second)` when one package lacks it, or with both
 *   permission modes (octal) when they differ; empty when the
 *   two differ in the compilers' identities at most
 * @throws Error when bsdtar cannot read a package or objcopy cannot read an ELF file
 */
export function differencesBeyondIdentity(first: string, second: string, objcopy: string): string[] {
  const scratch = mkdtempSync(path.join(tmpdir(), 'nx-distro-payload-'));
  try {
    const [a, b] = ['first', 'second'].map((name, i) => {
      const dir = path.join(scratch, name);
      mkdirSync(dir, { recursive: true });
      execFileSync('bsdtar', ['-xf', i === 0 ? first : second, '-C', dir]);
      return dir;
    });
    const inA = new Set(entries(a).filter((p) => !METADATA.has(p)));
    const inB = new Set(entries(b).filter((p) => !METADATA.has(p)));
    const out: string[] = [];
    for (const p of [...new Set([...inA, ...inB])].sort()) {
      if (!inB.has(p)) out.push(`${p} (only in the first)`);
      else if (!inA.has(p)) out.push(`${p} (only in the second)`);
      else {
        const [fa, fb] = [path.join(a, p), path.join(b, p)];
        const [la, lb] = [lstatSync(fa), lstatSync(fb)];
        if ((la.mode & 0o7777) !== (lb.mode & 0o7777)) out.push(`${p} (mode ${(la.mode & 0o7777).toString(8)} vs ${(lb.mode & 0o7777).toString(8)})`);
        else if (la.isSymbolicLink() || lb.isSymbolicLink()) {
          if (!(la.isSymbolicLink() && lb.isSymbolicLink() && readlinkSync(fa) === readlinkSync(fb))) out.push(p);
        } else if (!readFileSync(fa).equals(readFileSync(fb)) && !withoutIdentity(fa, objcopy, scratch).equals(withoutIdentity(fb, objcopy, scratch))) out.push(p);
      }
    }
    return out;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
