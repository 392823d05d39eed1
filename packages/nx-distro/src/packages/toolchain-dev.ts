import { promises as fs, lstatSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parseElf } from './elf';
import { ToolchainError, type ToolchainRuntime } from './toolchain-runtime';

/**
 * The development files of an external cross toolchain's C library, packaged for the host
 * machine: what a compiler running on the target needs besides itself to build C programs
 * there (issue 21's build-essential set): glibc's headers, start files (`crt1.o`, `crti.o`, ...),
 * static libraries, the linker scripts and development links (`libc.so`, `libm.so`), and the
 * kernel's user-space API headers (`linux/`, `asm/`). Debian's toolchains keep these in two
 * packages of the build machine, `libc6-dev-<arch>-cross` and `linux-libc-dev-<arch>-cross` (or
 * `libc6-dev` and `linux-libc-dev` for the build machine's own arch), which are asked, not
 * assumed: the compiler preprocesses `<stdio.h>` and `<linux/version.h>` (`-M`), `dpkg -S` names
 * the packages those files belong to, and `dpkg -L` lists their files. Only Debian-packaged
 * toolchains are supported (a toolchain unpacked from a tarball belongs to no package).
 *
 * Layout in the package (merged /usr, like {@link ToolchainRuntime}'s): headers under
 * `usr/include/` (Debian's multiarch folder `include/<triplet>/` merged into it), the files
 * directly in a library folder under `usr/lib/`; linker scripts rewritten to name `/usr/lib/...`
 * instead of the build machine's folders; development links pointing at the runtime package's
 * files, and left out when the runtime package does not carry their target (e.g.
 * `libBrokenLocale.so`); documentation left out.
 */

/** The package's name: the `-dev` split of `toolchain-runtime`, which it depends on. */
export const DEV_PACKAGE = 'toolchain-runtime-dev';

/** A Debian package of the build machine that the files come from. */
export interface DebianSource {
  readonly name: string;
  /** Its installed version (`dpkg-query -W`), e.g. `2.36-8cross1`. */
  readonly version: string;
}

/** One entry of the dev package: a copy, a rewritten linker script or a link. */
export type DevEntry =
  | { readonly kind: 'file'; readonly dest: string; readonly source: string }
  | { readonly kind: 'script'; readonly dest: string; readonly source: string }
  | { readonly kind: 'link'; readonly dest: string; readonly target: string };

/** What {@link probeToolchainDev} found. */
export interface ToolchainDev {
  /** The C library's development package and the kernel headers' package, in that order. */
  readonly sources: readonly DebianSource[];
  /** Package-relative paths (`usr/include/stdio.h`), sorted by `dest`. */
  readonly entries: readonly DevEntry[];
  /** Links left out: development links whose library the runtime package does not carry (`usr/lib/libBrokenLocale.so`), dangling header links. */
  readonly skippedLinks: readonly string[];
}

/** Runs a program of the build machine; its stdout, or a {@link ToolchainError} naming it. */
async function run(file: string, args: string[], input?: string): Promise<string> {
  const r = await execa(file, args, { reject: false, all: true, env: { LC_ALL: 'C' }, ...(input !== undefined ? { input } : {}) });
  if (r.failed) throw new ToolchainError(`${file} ${args.join(' ')} failed (${r.exitCode ?? r.signal ?? (r as { code?: string }).code}): ${String(r.all ?? '').trim().split('\n').slice(0, 3).join(' | ')}`);
  return String(r.stdout);
}

/**
 * Where a file of those packages goes in the dev package, or undefined when it does not belong
 * there: `…/include/<rel>` → `usr/include/<rel>` (`include/<triplet>/<rel>` too), a file directly
 * in a `lib` folder (or `lib/<triplet>/`) ending in `.o`, `.a` or `.so` → `usr/lib/<name>`.
 * @param file absolute path on the build machine
 * @param triplet Debian's multiarch triplet of the host machine (`aarch64-linux-gnu`)
 */
export function devDestination(file: string, triplet: string): string | undefined {
  const inc = file.indexOf('/include/');
  if (inc >= 0) {
    let rel = file.slice(inc + '/include/'.length);
    if (rel.startsWith(`${triplet}/`)) rel = rel.slice(triplet.length + 1);
    return rel && !rel.split('/').some((p) => p === '..' || p === '.' || p === '') ? `usr/include/${rel}` : undefined;
  }
  const m = new RegExp(`/lib/(?:${triplet.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/)?([^/]+\\.(?:o|a|so))$`).exec(file);
  return m ? `usr/lib/${m[1]}` : undefined;
}

/**
 * A GNU ld script with every absolute path of a library (`/usr/aarch64-linux-gnu/lib/libc.so.6`,
 * `/lib/x86_64-linux-gnu/libm.so.6`) replaced by `/usr/lib/<its name>`, where the packages put it.
 */
export function rewriteLinkerScript(text: string): string {
  return text.replace(/\/(?:[^\s()/]+\/)+((?:lib|ld-)[^\s()/]*\.(?:so(?:\.[0-9.]+)?|a))(?=[\s)])/g, '/usr/lib/$1');
}

/**
 * Finds the development files of the toolchain's C library and the kernel headers (module comment).
 * @param rt the toolchain's runtime ({@link probeToolchainRuntime}): its compiler, machine and files
 * @param triplet the host machine's Debian multiarch triplet (the system target's `triplet`)
 * @param cflags the target's compiler flags (whitespace-separated)
 * @throws ToolchainError when the compiler cannot preprocess the headers, a header belongs to no
 *   Debian package, a listed object file is for another machine, or nothing is found
 */
export async function probeToolchainDev(rt: ToolchainRuntime, triplet: string, cflags = ''): Promise<ToolchainDev> {
  const work = mkdtempSync(path.join(tmpdir(), 'nx-distro-toolchain-dev-'));
  try {
    const probe = path.join(work, 'probe.c');
    writeFileSync(probe, '#include <stdio.h>\n#include <linux/version.h>\n');
    const deps = (await run(rt.compiler, [...cflags.split(/\s+/).filter(Boolean), '-E', '-M', probe])).replace(/\\\n/g, ' ').split(/\s+/).filter((p) => p.startsWith('/'));
    const header = (name: string) => {
      const found = deps.find((d) => d.endsWith(`/include/${name}`) || d.endsWith(`/include/${triplet}/${name}`));
      if (!found) throw new ToolchainError(`${rt.compiler} does not find <${name}>: install the C library's and the kernel's development files of the toolchain (tools/setup-host)`);
      return found;
    };
    const owners: string[] = [];
    for (const file of [header('stdio.h'), header('linux/version.h')]) {
      const out = await run('dpkg', ['-S', file]).catch(() => {
        throw new ToolchainError(`${file} (what ${rt.compiler} includes) belongs to no Debian package: only Debian-packaged toolchains can give a ${DEV_PACKAGE} package`);
      });
      const owner = out.split('\n')[0].split(':')[0].trim();
      if (!owners.includes(owner)) owners.push(owner);
    }
    const sources: DebianSource[] = [];
    const runtimeNames = new Set(rt.libraries.map((l) => l.name));
    const entries = new Map<string, DevEntry>();
    const skippedLinks: string[] = [];
    for (const owner of owners) {
      sources.push({ name: owner, version: (await run('dpkg-query', ['-W', '-f', '${Version}', owner])).trim() });
      for (const file of (await run('dpkg', ['-L', owner])).split('\n').filter(Boolean)) {
        const dest = devDestination(file, triplet);
        if (!dest) continue;
        let st;
        try {
          st = lstatSync(file);
        } catch {
          continue; // listed, not installed (a diverted or removed file)
        }
        if (st.isDirectory()) continue;
        if (st.isSymbolicLink()) {
          const target = path.posix.basename(readlinkSync(file));
          if (dest.startsWith('usr/lib/')) {
            if (runtimeNames.has(target) || entries.has(`usr/lib/${target}`)) entries.set(dest, { kind: 'link', dest, target });
            else skippedLinks.push(dest);
          } else {
            // A header link stays a link when it stays inside usr/include; else its file is copied.
            const raw = readlinkSync(file);
            const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(dest), raw));
            if (!path.posix.isAbsolute(raw) && resolved.startsWith('usr/include/')) entries.set(dest, { kind: 'link', dest, target: raw });
            else {
              try {
                const real = realpathSync(file);
                if (statSync(real).isFile()) entries.set(dest, { kind: 'file', dest, source: real });
              } catch {
                skippedLinks.push(dest);
              }
            }
          }
          continue;
        }
        if (!st.isFile()) continue;
        const head = readFileSync(file).subarray(0, 64);
        if (dest.endsWith('.so') && !head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
          entries.set(dest, { kind: 'script', dest, source: file });
          continue;
        }
        if (/\.o$/.test(dest)) {
          const elf = parseElf(readFileSync(file), file);
          if (elf.machine !== rt.machine) throw new ToolchainError(`${file} (of ${owner}) is for ELF machine ${elf.machine}, the toolchain's programs for ${rt.machine}`);
        }
        entries.set(dest, { kind: 'file', dest, source: file });
      }
    }
    if (![...entries.keys()].some((d) => d === 'usr/lib/crt1.o') || !entries.has('usr/include/stdio.h')) {
      throw new ToolchainError(`${owners.join(' and ')} give no usr/lib/crt1.o or usr/include/stdio.h: not a glibc development package`);
    }
    return { sources, entries: [...entries.values()].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0)), skippedLinks: skippedLinks.sort() };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Writes the dev package's tree into the empty or missing folder `pkgdir`, reproducibly: files
 * copied (mode 0644), linker scripts rewritten ({@link rewriteLinkerScript}), links as found,
 * folders 0755, every mtime `sourceDateEpoch`.
 * @param sourceDateEpoch seconds since the epoch
 * @returns the number of entries written
 */
export async function stageToolchainDev(dev: ToolchainDev, pkgdir: string, sourceDateEpoch: number): Promise<number> {
  if (!path.isAbsolute(pkgdir)) throw new TypeError(`stageToolchainDev: pkgdir must be absolute, got ${JSON.stringify(pkgdir)}`);
  const dirs = new Set<string>([pkgdir]);
  for (const e of dev.entries) {
    const dest = path.join(pkgdir, e.dest);
    for (let d = path.dirname(dest); d.startsWith(pkgdir) && !dirs.has(d); d = path.dirname(d)) dirs.add(d);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    if (e.kind === 'link') {
      await fs.symlink(e.target, dest);
      await fs.lutimes(dest, sourceDateEpoch, sourceDateEpoch);
      continue;
    }
    if (e.kind === 'script') await fs.writeFile(dest, rewriteLinkerScript(await fs.readFile(e.source, 'utf8')));
    else await fs.copyFile(e.source, dest);
    await fs.chmod(dest, 0o644);
    await fs.utimes(dest, sourceDateEpoch, sourceDateEpoch);
  }
  for (const d of [...dirs].sort().reverse()) {
    await fs.chmod(d, 0o755);
    await fs.utimes(d, sourceDateEpoch, sourceDateEpoch);
  }
  return dev.entries.length;
}
