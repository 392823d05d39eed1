import type { Source } from './recipe.generated';

/**
 * The URLs of one `sources` entry, in the order they are tried: `url`, or every `urls` entry.
 * @returns absolute http, https or file URLs as written in the recipe
 */
export function sourceUrls(source: Source): string[] {
  return source.url !== undefined ? [source.url] : [...(source.urls ?? [])];
}

/**
 * The distfile name of one `sources` entry: `filename`, or the last path segment of the first
 * URL, percent-decoded (`…/musl-1.2.3.tar.gz` → `musl-1.2.3.tar.gz`).
 * @returns a file name without `/`; `''` when the URL ends with `/` (the recipe check reports it)
 */
export function distfileName(source: Source): string {
  if (source.filename) return source.filename;
  const first = sourceUrls(source)[0] ?? '';
  let pathname: string;
  try {
    pathname = new URL(first).pathname;
  } catch {
    return '';
  }
  const last = pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
