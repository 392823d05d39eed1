import path from 'node:path';
import { parseArgs } from 'node:util';
import { readTokens, type TokenSet } from './auth';
import { startCacheServer, type RunningCacheServer } from './server';
import { FileStore } from './store';

/** The command's usage, printed by `--help`. */
export const USAGE = `usage: nx-distro-cache-server --storage DIR (--tokens FILE | --no-auth) [options]

Serves Nx's self-hosted remote cache (NX_SELF_HOSTED_REMOTE_CACHE_SERVER) from a folder.

  --storage DIR           folder holding the entries (created if missing; one server per folder)
  --tokens FILE           YAML file: \`read: [tokens]\` (download only), \`write: [tokens]\`
  --no-auth               accept every request read-write (a trusted network only)
  --host ADDRESS          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --port N                TCP port (default 8090; 0 picks a free one)
  --max-entry-size SIZE   largest task result accepted (default 4GiB)
  --max-storage-size SIZE total kept before least recently used entries go (default 100GiB)
  --quiet                 no line per request

SIZE: bytes, or a number with K, M, G, T (powers of 1024; KiB, MiB.. and KB, MB.. are read the same).`;

/** The parsed command line. */
export interface CliOptions {
  /** Absolute folder of the store. */
  readonly storage: string;
  readonly tokens: TokenSet | undefined;
  readonly host: string;
  readonly port: number;
  /** Bytes. */
  readonly maxEntryBytes: number;
  /** Bytes. */
  readonly maxStoreBytes: number;
  readonly quiet: boolean;
}

/**
 * Reads a size: `123` bytes, or `1.5G`, `512MiB`, `10KB` (K, M, G, T are powers of 1024).
 * @returns bytes (whole)
 * @throws Error naming `flag` for anything else
 */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new Error(`${flag} ${text}: not a size; fix: e.g. ${flag} 4GiB`);
  const bytes = Math.floor(Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2].toUpperCase() || ' '));
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`${flag} ${text}: must be at least 1 byte`);
  return bytes;
}

/**
 * Parses the command line (see {@link USAGE}).
 * @param cwd folder relative paths are taken from
 * @throws Error with one line naming the flag and the fix
 */
export function parseCli(argv: readonly string[], cwd: string): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        storage: { type: 'string' },
        tokens: { type: 'string' },
        'no-auth': { type: 'boolean' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8090' },
        'max-entry-size': { type: 'string', default: '4GiB' },
        'max-storage-size': { type: 'string', default: '100GiB' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message.split('\n')[0]}; fix: see --help`);
  }
  if (values.help) return 'help';
  if (!values.storage) throw new Error('--storage is required; fix: --storage /srv/nx-cache');
  if (!values.tokens === !values['no-auth']) throw new Error('give exactly one of --tokens FILE and --no-auth');
  if (!/^\d+$/.test(values.port!) || Number(values.port) > 65535) throw new Error(`--port ${values.port}: not a TCP port; fix: 0 to 65535`);
  const maxEntryBytes = parseSize(values['max-entry-size']!, '--max-entry-size');
  const maxStoreBytes = parseSize(values['max-storage-size']!, '--max-storage-size');
  if (maxEntryBytes > maxStoreBytes) throw new Error('--max-entry-size is larger than --max-storage-size; fix: raise --max-storage-size');
  return {
    storage: path.resolve(cwd, values.storage),
    tokens: values.tokens ? readTokens(path.resolve(cwd, values.tokens)) : undefined,
    host: values.host!,
    port: Number(values.port),
    maxEntryBytes,
    maxStoreBytes,
    quiet: !!values.quiet,
  };
}

/**
 * The `nx-distro-cache-server` command: starts the server and prints `listening on <url>`;
 * SIGINT or SIGTERM stop it after the open requests. A bad command line prints one line and
 * exits with 2.
 */
export async function main(argv: readonly string[]): Promise<RunningCacheServer | undefined> {
  let options;
  try {
    options = parseCli(argv, process.cwd());
  } catch (err) {
    console.error(`nx-distro-cache-server: ${(err as Error).message}`);
    process.exitCode = 2;
    return undefined;
  }
  if (options === 'help') {
    console.log(USAGE);
    return undefined;
  }
  const line = (text: string) => console.log(`${new Date().toISOString()} ${text}`);
  const store = await FileStore.open(options.storage, options, line);
  let running: RunningCacheServer;
  try {
    running = await startCacheServer({ store, tokens: options.tokens, host: options.host, port: options.port, log: options.quiet ? undefined : line });
  } catch (err) {
    console.error(`nx-distro-cache-server: cannot listen on ${options.host}:${options.port} (${(err as NodeJS.ErrnoException).code}); fix: another --port or --host`);
    process.exitCode = 1;
    return undefined;
  }
  const auth = options.tokens ? `${options.tokens.write.length} read-write and ${options.tokens.read.length} read-only tokens` : 'no authentication';
  console.log(`nx-distro-cache-server: listening on ${running.url} (${options.storage}: ${store.count} entries, ${store.bytes} bytes; ${auth})`);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return running;
}
