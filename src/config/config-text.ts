import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { yamlShapeProblem } from '../spec/nesting-depth.js';
import { aliasProblems, collectionKeyProblems, readDocuments, syntaxMessage, tagProblems } from '../spec/documents.js';
import type { PathSegment } from '../spec/path.js';

/**
 * A config file's text read as YAML: its value, or what is wrong with it, worded to
 * follow `config <file>` (` is nested …`, `: YAML …`). Pure, and free of I/O, so that
 * a large text is read on the parsing thread (parse-off-thread.ts) as a large spec is.
 */
export type ConfigText = { ok: true; raw: unknown } | { ok: false; problem: string };

export function readConfigText(text: string): ConfigText {
  const shape = yamlShapeProblem(text);
  if (shape !== undefined) return { ok: false, problem: ` ${shape}` };
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter });
    // A tag YAML does not know (`token: !secret x`) is refused, as in a spec: dropped, it left the plain value.
    const error = doc.errors[0];
    if (error) return { ok: false, problem: `: ${configSyntaxMessage(error)}` };
    const problem = tagProblems(doc)[0] ?? collectionKeyProblems(doc, lineCounter)[0] ?? aliasProblems(doc, lineCounter)[0];
    if (problem) throw problem;
    return { ok: true, raw: doc.toJS({ maxAliasCount: 100 }) ?? {} };
  } catch (err) {
    return { ok: false, problem: `: ${(err as Error).message}` };
  }
}

/**
 * A YAML error in the config file as one line. The parser's own message went out whole: a code
 * frame over several lines, and for an app spec file given as the config (`serve --config
 * apps/hello.yaml`, several `---` documents) advice meant for the parser's caller
 * ("please use YAML.parseAllDocuments()").
 */
export function configSyntaxMessage(error: YAMLError): string {
  if (error.code === 'MULTIPLE_DOCS') {
    const line = error.linePos?.[0].line;
    return `more than one YAML document (the next begins${line === undefined ? '' : ` at line ${line}, its \`---\``}); a gateway config is one: is this an app spec? Specs go in the files or directories the config's apps: names`;
  }
  return syntaxMessage(error);
}

/** The 1-based line of the field at a path in the config file (or of its nearest ancestor found). */
export type LineOf = (path: readonly PathSegment[]) => number | undefined;

/** Where a field is in the config file's text, so a refusal names its line; undefined for a text without one map. */
export function configLines(text: string): LineOf | undefined {
  const read = readDocuments(text, Infinity);
  const only = read.documents.length === 1 && read.documents[0]!.at.length === 0 ? read.documents[0] : undefined;
  return only && ((path) => only.lineOf(path));
}

/** Paths looked up ahead at most: far past any config's fields; a text of more only loses lines past it. */
const MAX_LINE_ENTRIES = 20_000;
/** As deep as a config's problems point: `apps[1].routes[0].path`, one more for a misspelt key under it. */
const MAX_LINE_DEPTH = 6;

/**
 * The line of every field of `raw` (to a depth and a count), as `[JSON of the path, line]`:
 * a LineOf cannot leave the thread that parsed the text, this table can. Pure.
 */
export function lineTable(text: string, raw: unknown): Array<[string, number]> {
  const lineOf = configLines(text);
  if (!lineOf) return [];
  const out: Array<[string, number]> = [];
  const queue: Array<[PathSegment[], unknown]> = [[[], raw]];
  for (let i = 0; i < queue.length && out.length < MAX_LINE_ENTRIES; i++) {
    const [path, value] = queue[i]!;
    if (path.length > 0) {
      const line = lineOf(path);
      if (line !== undefined) out.push([JSON.stringify(path), line]);
    }
    if (path.length >= MAX_LINE_DEPTH || value === null || typeof value !== 'object') continue;
    const entries: Array<[PathSegment, unknown]> = Array.isArray(value) ? value.map((v, j) => [j, v]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (queue.length >= MAX_LINE_ENTRIES) break;
      queue.push([[...path, key], child]);
    }
  }
  return out;
}

/** A LineOf over a lineTable: the path's own line, else its nearest ancestor's. Pure. */
export function linesFromTable(table: ReadonlyArray<[string, number]>): LineOf {
  const lines = new Map(table);
  return (path) => {
    for (let depth = path.length; depth > 0; depth--) {
      const line = lines.get(JSON.stringify(path.slice(0, depth)));
      if (line !== undefined) return line;
    }
    return undefined;
  };
}
