/**
 * Echoing untrusted text (Debian metadata, patch headers, archive member names) in one-line
 * messages and reports: the value is shown in double quotes with every control character,
 * line and paragraph separator and bidirectional control escaped, so it can neither break the
 * line nor hide or reorder what follows it on a terminal.
 */

// C0 controls, DEL, C1 controls, U+2028/U+2029, the bidi embeddings, overrides and isolates.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The text in double quotes, JSON-style escapes: `\n`, `\t`, `\"`, `\\`, `\uXXXX` for the rest.
 * @param text any string
 * @param max characters kept before the value is cut with `…` (default 200)
 */
export function quote(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return `"${escapeControls(cut.replace(/["\\]/g, (c) => `\\${c}`))}"`;
}

/**
 * {@link quote}'s escaping of control characters alone (quotes and backslashes kept), for text
 * placed inside a YAML comment or after a label.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}
