import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';

/** What a request may do: `read` (GET) or `write` (GET and PUT). */
export type Access = 'read' | 'write';

/** The bearer tokens the server accepts, by access. */
export interface TokenSet {
  /** Tokens that may download only (a developer's machine). */
  readonly read: readonly string[];
  /** Tokens that may download and upload (CI, build machines). */
  readonly write: readonly string[];
}

/** Shortest token accepted, characters: a guessable token is a configuration error. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Reads a tokens file: YAML `{ read: [tokens], write: [tokens] }`, either list may be missing.
 * @param file path as given by the user (for messages)
 * @throws Error with one line naming the file, the field and the fix
 */
export function readTokens(file: string): TokenSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the tokens file (${(err as NodeJS.ErrnoException).code}); fix: give --tokens an existing file`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid YAML (${(err as Error).message.split('\n')[0]}); fix: write it as \`read: [..]\` and \`write: [..]\``);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: must be a mapping with \`read\` and/or \`write\` lists of tokens`);
  const set: { read: string[]; write: string[] } = { read: [], write: [] };
  for (const [key, value] of Object.entries(doc)) {
    if (key !== 'read' && key !== 'write') throw new Error(`${file}: unknown field \`${key}\`; fix: only \`read\` and \`write\` are allowed`);
    if (!Array.isArray(value)) throw new Error(`${file}: field \`${key}\` must be a list of tokens`);
    value.forEach((token, i) => {
      if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
        throw new Error(`${file}: ${key}[${i}] must be a token of at least ${MIN_TOKEN_LENGTH} printable characters without spaces; fix: e.g. \`openssl rand -hex 32\``);
      }
      set[key].push(token);
    });
  }
  if (set.read.length + set.write.length === 0) throw new Error(`${file}: no tokens; fix: list at least one under \`write\``);
  const both = set.read.find((t) => set.write.includes(t));
  if (both !== undefined) throw new Error(`${file}: a token is listed under both \`read\` and \`write\`; fix: keep it in one list`);
  return set;
}

/**
 * Decides the access of a request from its `Authorization` header (`Bearer <token>`, RFC 6750).
 * Tokens are compared through their sha256 in constant time.
 * @param tokens undefined when the server runs without authentication (everyone may write)
 * @returns the access granted, or undefined for a missing or unknown token
 */
export function accessOf(tokens: TokenSet | undefined, authorization: string | undefined): Access | undefined {
  if (!tokens) return 'write';
  const m = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  const given = digest(m[1]);
  // Every token is compared, so the time taken does not tell which list matched.
  let access: Access | undefined;
  for (const t of tokens.write) if (timingSafeEqual(digest(t), given)) access = 'write';
  for (const t of tokens.read) if (timingSafeEqual(digest(t), given)) access ??= 'read';
  return access;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
