import { Document, isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { escapeControls } from '../../model/errors';
import type { Recipe } from '../../model/recipe';

/** Comments the recipe carries for its maintainer, by where they go. */
export interface RecipeComments {
  /** At the top of the file. */
  readonly header: readonly string[];
  /** Before `license:`. */
  readonly license?: readonly string[];
  /** Before each `sources` entry, by index. */
  readonly sources?: readonly (readonly string[])[];
  /** Before `patches:`. */
  readonly patches?: readonly string[];
  /** After each `patches` entry's `file:` (the patch's one-line summary), by index. */
  readonly patchSummaries?: readonly (string | undefined)[];
  /** After each `patches` entry's `upstream:` (where the link came from, when it needs a look), by index. */
  readonly patchUpstreamNotes?: readonly (string | undefined)[];
  /** Before `makedepends:` (or where it would be). */
  readonly dependencies?: readonly string[];
  /** Before `style:`. */
  readonly style?: readonly string[];
}

const WIDTH = 98;

/** Words of a line, wrapped at {@link WIDTH} columns (a word longer than that, a URL, stays whole). */
function wrap(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(' ')) {
    if (cur && cur.length + 1 + word.length > WIDTH) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  out.push(cur);
  return out;
}

// A comment's text comes from untrusted metadata: control characters escaped, so it stays comment lines.
const commentText = (lines: readonly string[]) =>
  lines
    .flatMap((l) => wrap(escapeControls(l)))
    .map((l) => ` ${l}`)
    .join('\n');

/**
 * The recipe as YAML, in the key order of the recipes in recipes/ (name, version, release,
 * description, license, homepage, sources, patches, makedepends, makedepends_build, style,
 * steps), short lists in flow style (`license: [MIT]`), with the comments. Every value goes
 * through the YAML library, so any text Debian's metadata holds is quoted as YAML needs.
 */
export function recipeText(recipe: Recipe, comments: RecipeComments): string {
  const doc = new Document(recipe);
  const map = doc.contents as YAMLMap<Node, Node>;
  doc.commentBefore = commentText(comments.header);
  const pair = (key: string) => map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair<Node, Node> | undefined;
  const before = (key: string, lines: readonly string[] | undefined) => {
    const p = pair(key);
    if (p && lines?.length) p.key.commentBefore = commentText(lines);
  };
  for (const key of ['license', 'depends', 'makedepends', 'makedepends_build']) {
    const v = pair(key)?.value;
    if (isSeq(v)) v.flow = true;
  }
  before('license', comments.license);
  before('patches', comments.patches);
  const depKey = pair('makedepends') ? 'makedepends' : pair('makedepends_build') ? 'makedepends_build' : 'style';
  before(depKey, depKey === 'style' ? [...(comments.dependencies ?? []), ...(comments.style ?? [])] : comments.dependencies);
  if (depKey !== 'style') before('style', comments.style);
  const sources = pair('sources')?.value;
  if (isSeq(sources)) {
    sources.items.forEach((item, i) => {
      const lines = comments.sources?.[i];
      if (lines?.length) (item as Node).commentBefore = commentText(lines);
    });
  }
  const patches = pair('patches')?.value;
  if (isSeq(patches)) {
    patches.items.forEach((item, i) => {
      if (!isMap(item)) return;
      const field = (key: string) => (item.items as Pair<Node, Node>[]).find((p) => isScalar(p.key) && p.key.value === key);
      const summary = comments.patchSummaries?.[i];
      const file = field('file');
      if (summary && file) file.value!.comment = ` ${escapeControls(summary.length > 80 ? `${summary.slice(0, 79)}…` : summary)}`;
      const note = comments.patchUpstreamNotes?.[i];
      const upstream = field('upstream');
      if (note && upstream) upstream.value!.comment = ` ${escapeControls(note)}`;
    });
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
