/**
 * Splits spec text into app documents. YAML 1.2 is a superset of JSON, so one
 * parser reads both and reports syntax errors with line and column either way.
 * A file holds one app per `---` document, or a list of apps (a JSON array);
 * documents that are empty or only comments are skipped.
 */
import { type Document, isAlias, isCollection, isMap, isSeq, LineCounter, parseAllDocuments, type Node, visit } from 'yaml';
import { MAX_LIST_ITEMS, MAX_MAPPING_ENTRIES, MAX_NESTING_DEPTH, yamlShapeProblem } from './nesting-depth.js';
import type { PathSegment, SpecIssue } from './path.js';

export interface AppDocument {
  /** Where the document is in the file: `[]` when it is the only one, `[i]` for the i-th, `[i, j]` inside a list. */
  at: PathSegment[];
  value: unknown;
  /** The 1-based line of the field at `path` (or of its nearest ancestor that exists). */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export interface ReadDocuments {
  documents: AppDocument[];
  /** Syntax errors, each located by its document and carrying line and column. */
  issues: SpecIssue[];
}

/** A YAML error as one line: its first line, which names line and column, without the code frame after it. */
export function syntaxMessage(error: { message: string; code?: string }): string {
  if (error.code === 'TAG_RESOLVE_FAILED' || error.code === 'NON_STRING_KEY' || error.code === 'ALIAS_CYCLE' || error.code === 'ALIAS_UNRESOLVED') return `YAML ${error.message}`;
  // The message's first line already names line and column; the rest is a code frame.
  return `YAML syntax error: ${clipWords(error.message.split('\n')[0]!.replace(/:$/, ''))}`;
}

/**
 * Words past WORD_CLIP characters cut short: the parser quotes what it failed on (an alias's
 * name), so a 100 KB name made a 200 KB message, repeated in the answer's detail and problems.
 */
function clipWords(message: string): string {
  return message.replace(new RegExp(`\\S{${WORD_CLIP + 1},}`, 'g'), (word) => `${word.slice(0, WORD_CLIP)}…`);
}

const WORD_CLIP = 60;

/** Aliased values a document may expand to (the YAML library's own default), past which it is refused as a "billion laughs". */
const MAX_ALIAS_COUNT = 100;

/** The node at `path`; for a mapping key, the key itself, which is where a user looks. */
function nodeAt(doc: Document, path: readonly PathSegment[]): Node | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
    const last = path[depth - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => String((p.key as { value?: unknown } | null)?.value) === String(last));
      if (pair?.key) return pair.key as Node;
    } else if (isSeq(parent) && typeof last === 'number' && parent.items[last]) {
      return parent.items[last] as Node;
    }
  }
  return doc.contents ?? undefined;
}

/** The document's data. An alias bomb ("billion laughs") is turned into a syntax error. */
function toValue(doc: Document): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    doc.errors.push({ message: (err as Error).message } as Document['errors'][number]);
    return undefined;
  }
}

/**
 * A tag YAML does not know (a local `!secret`), as an error. It was dropped with a
 * warning no one read, leaving the plain value: `A: !secret hunter2` became a plain
 * env value, shown by the API and the dashboard, where its author meant a secret.
 */
export function tagProblems(doc: Document): Document['errors'] {
  return doc.warnings
    .filter((w) => w.code === 'TAG_RESOLVE_FAILED')
    .map((w) => {
      const m = /^Unresolved tag: (\S+) (at line \d+, column \d+)/.exec(w.message);
      const tag = m ? m[1]!.replace(/^tag:yaml\.org,2002:/, '!!') : 'a tag';
      const at = m ? ` ${m[2]}` : '';
      return { code: w.code, message: `tag ${tag} is not supported${at}: berth reads only YAML's standard tags; for a secret write {secret: ...}` } as Document['errors'][number];
    });
}

/**
 * A mapping key that is a list or a mapping (`? [a, b] : c`), as an error. Objects have only
 * text keys, so it became the key's YAML text (an env variable named "[ a, b ]"), with a
 * warning on the gateway's stderr that no author saw.
 */
export function collectionKeyProblems(doc: Document, lineCounter?: LineCounter): Document['errors'] {
  const problems: Document['errors'] = [];
  visit(doc, {
    Pair(_, pair) {
      // An alias as a key (`*k: x`) stands for what its anchor names, which may be a collection.
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (!isCollection(key)) return;
      const kind = isMap(key) ? 'a mapping' : 'a list';
      const range = (pair.key as Node).range;
      const pos = range && lineCounter ? lineCounter.linePos(range[0]) : undefined;
      const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      problems.push({ code: 'NON_STRING_KEY', message: `mapping key is ${kind}${at}: a key must be a plain name` } as Document['errors'][number]);
    },
  });
  return problems;
}

/**
 * Aliases that cannot be read, as errors with their line:
 * - one naming no anchor set before it (`image: *nope`): the library says so only when the
 *   value is built, with no position, so the author was not told where;
 * - one inside the very node its anchor names (`x: &a [*a]`). The library makes that a value
 *   that contains itself, and every check walking the value after (reserved names, the
 *   schema) recursed until the stack overflowed: the API answered 500 (found by
 *   test/unit/api-fuzz.test.ts). Only such an alias makes a cycle: an alias names an anchor
 *   set before it, so anything else is a finished node.
 */
export function aliasProblems(doc: Document, lineCounter?: LineCounter): Document['errors'] {
  const problems: Document['errors'] = [];
  visit(doc, {
    Alias(_, alias, path) {
      const target = alias.resolve(doc);
      if (target && !path.includes(target)) return;
      const pos = alias.range && lineCounter ? lineCounter.linePos(alias.range[0]) : undefined;
      const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      const name = clipWords(alias.source);
      const named = `alias *${name}${at}`;
      const message = target ? `${named} is inside the value its anchor names: a value cannot contain itself` : `${named} names no anchor: an anchor (&${name}) must be set before the alias`;
      problems.push({ code: target ? 'ALIAS_CYCLE' : 'ALIAS_UNRESOLVED', message } as unknown as Document['errors'][number]);
    },
  });
  return problems;
}

/** `listItems`: the longest list taken (a spec's; the config file, whose lines are read here too, has none). */
export function readDocuments(text: string, listItems = MAX_LIST_ITEMS): ReadDocuments {
  const shape = yamlShapeProblem(text, { depth: MAX_NESTING_DEPTH, entries: MAX_MAPPING_ENTRIES, items: listItems });
  if (shape !== undefined) return { documents: [], issues: [{ path: [], message: `the YAML ${shape}; no spec needs that` }] };
  const lineCounter = new LineCounter();
  const yamlDocs = parseAllDocuments(text, { lineCounter, prettyErrors: true, merge: true });
  const parsed = Array.isArray(yamlDocs) ? yamlDocs : [];
  for (const doc of parsed) doc.errors.push(...tagProblems(doc), ...collectionKeyProblems(doc, lineCounter), ...aliasProblems(doc, lineCounter));
  const values = parsed.map((doc) => (doc.errors.length === 0 ? toValue(doc) : undefined));
  const several = parsed.filter((doc, i) => doc.errors.length > 0 || values[i] != null).length > 1;
  const documents: AppDocument[] = [];
  const issues: SpecIssue[] = [];
  parsed.forEach((doc, i) => {
    const docAt: PathSegment[] = several ? [i] : [];
    for (const error of doc.errors) issues.push({ path: docAt, message: syntaxMessage(error) });
    const value: unknown = values[i];
    if (doc.errors.length > 0 || value == null) return;
    const lineOf = (inDoc: readonly PathSegment[]) => {
      const node = nodeAt(doc, inDoc);
      return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    };
    if (Array.isArray(value)) {
      value.forEach((item, j) => documents.push({ at: [...docAt, j], value: item, lineOf: (p) => lineOf([j, ...p]) }));
    } else {
      documents.push({ at: docAt, value, lineOf });
    }
  });
  return { documents, issues };
}
