/**
 * Splits spec text into app documents. YAML 1.2 is a superset of JSON, so one
 * parser reads both and reports syntax errors with line and column either way.
 * A file holds one app per `---` document, or a list of apps (a JSON array);
 * documents that are empty or only comments are skipped.
 */
import { type Document, isMap, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import { yamlShapeProblem } from './nesting-depth.js';
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
  if (error.code === 'TAG_RESOLVE_FAILED') return `YAML ${error.message}`;
  // The message's first line already names line and column; the rest is a code frame.
  return `YAML syntax error: ${error.message.split('\n')[0]!.replace(/:$/, '')}`;
}

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
    return doc.toJS({ maxAliasCount: 100 });
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

export function readDocuments(text: string): ReadDocuments {
  const shape = yamlShapeProblem(text);
  if (shape !== undefined) return { documents: [], issues: [{ path: [], message: `the YAML ${shape}; no spec needs that` }] };
  const lineCounter = new LineCounter();
  const yamlDocs = parseAllDocuments(text, { lineCounter, prettyErrors: true, merge: true });
  const parsed = Array.isArray(yamlDocs) ? yamlDocs : [];
  for (const doc of parsed) doc.errors.push(...tagProblems(doc));
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
