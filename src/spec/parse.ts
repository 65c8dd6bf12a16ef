/**
 * Reading app specs from text (files, request bodies) and from already-parsed
 * objects (inline specs in the gateway config).
 *
 * Problem paths name the field inside its document as written:
 *   - a file with one app:          `routes[0].path: must start with "/"`
 *   - several `---` documents:      `[1].routes[0].path` (document index, from 0)
 *   - a JSON array / YAML list:     `[2].name` (item index, from 0)
 *   - a list inside document 1:     `[1][0].port`
 *   - parseSpecObject(obj, 'apps[2]'): `apps[2].routes[0].path`
 * The SWS and cntSpawner forms are reported at their own paths (`spec.env[1].name`,
 * `labels["traefik.http.routers.x.rule"]`). In multi-line text each message ends
 * with the line it points at, e.g. `(line 7)`.
 */
import { SpecError, type FieldProblem } from '../errors.js';
import { readDocuments, type AppDocument } from './documents.js';
import { checkCntSpawnerBody } from './cntspawner.js';
import { checkDocument } from './forms.js';
import { rawValueIssues } from './raw-value.js';
import { isRecord } from './record.js';
import type { Checked, PathSegment, SpecIssue } from './path.js';
import { formatPath, toFieldProblems } from './path.js';
import { listed } from './problem-list.js';

export { MAX_LISTED_PROBLEMS } from './problem-list.js';
import type { AppSpec } from './types.js';

/**
 * Every app in `text` (YAML, several documents, or JSON: an object or an array of
 * them). Empty text gives no apps. `source` (a file name) prefixes the error message.
 * Throws SpecError listing every problem in every document; nothing is returned
 * unless all documents are valid.
 */
export function parseSpecText(text: string, source: string): AppSpec[] {
  const read = readDocuments(text);
  const problems: FieldProblem[] = toFieldProblems(read.issues);
  // A one-line body (an API request) needs no line numbers.
  const showLines = text.trim().includes('\n');
  const specs: AppSpec[] = [];
  const named: NamedDocument[] = [];
  const locate = (doc: AppDocument, issue: SpecIssue): FieldProblem & { line: number | undefined } => {
    const line = showLines ? doc.lineOf(issue.path) : undefined;
    return { path: formatPath([...doc.at, ...issue.path]), message: line === undefined ? issue.message : `${issue.message} (line ${line})`, line };
  };
  for (const doc of read.documents) {
    const checked = checkDocument(doc.value);
    if (checked.ok) {
      specs.push(checked.value);
      named.push({ doc, name: checked.value.name, path: writtenName(doc.value, [])?.path ?? ['name'] });
      continue;
    }
    const found = writtenName(doc.value, checked.issues);
    if (found) named.push({ doc, ...found });
    // In reading order, so the list can be worked through from the top of the file.
    const located = checked.issues.map((issue) => locate(doc, issue)).sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    problems.push(...located.map(({ path, message }) => ({ path, message })));
  }
  if (problems.length === 0) return specs;
  // Refused anyway: a name given twice is said now too, not only once the other problems are fixed
  // (a text without other problems has its names checked with the rest of the set, stored apps too).
  problems.push(...repeatedNames(named, source).map(({ doc, issue }) => locate(doc, issue)).map(({ path, message }) => ({ path, message })));
  throw new SpecError(listed(problems), source);
}

/** A document's app name and where it is written. */
interface NamedDocument {
  doc: AppDocument;
  name: string;
  path: PathSegment[];
}

/** The name a refused document gives its app (berth/v1 and cntSpawner `name`, SWS `spec.name`), unless that name is itself refused. Pure. */
function writtenName(value: unknown, issues: readonly SpecIssue[]): { name: string; path: PathSegment[] } | undefined {
  if (!isRecord(value)) return undefined;
  const path = typeof value.name === 'string' ? ['name'] : isRecord(value.spec) && typeof value.spec.name === 'string' ? ['spec', 'name'] : undefined;
  if (!path) return undefined;
  if (issues.some((issue) => issue.path.length === 0 || formatPath(issue.path) === formatPath(path))) return undefined;
  return { name: path.length === 1 ? (value.name as string) : ((value.spec as Record<string, unknown>).name as string), path };
}

/** Each document whose app name an earlier document of the text gives too. Pure. */
function repeatedNames(named: readonly NamedDocument[], source: string): Array<{ doc: AppDocument; issue: SpecIssue }> {
  const first = new Map<string, AppDocument>();
  const repeated: Array<{ doc: AppDocument; issue: SpecIssue }> = [];
  for (const { doc, name, path } of named) {
    const earlier = first.get(name);
    if (!earlier) {
      first.set(name, doc);
      continue;
    }
    // Named as the set check names documents (`request body, document 1`), which berth apply renames to its file's.
    const where = earlier.at.length === 1 ? `${source}, document ${Number(earlier.at[0]) + 1}` : `${source}: ${formatPath(earlier.at)}`;
    repeated.push({ doc, issue: { path, message: `"${name}" is also the name of ${where}; app names must be unique` } });
  }
  return repeated;
}

/**
 * One app from an already-parsed value of any accepted form. `where` is the path
 * of the value in whatever holds it (`apps[2]`, `spec`) and prefixes every problem
 * path; leave it empty for a value that stands alone.
 */
export function parseSpecObject(obj: unknown, where = ''): AppSpec {
  return unwrap(checkDocument(obj), where);
}

/**
 * One app from a cntSpawner `POST /v1/` body, taken as that form whatever its keys
 * (the compatibility endpoint knows what it receives; a minimal `{name, image}` body
 * would otherwise be mistaken for a berth/v1 spec without apiVersion).
 */
export function parseCntSpawnerBody(body: unknown, where = ''): AppSpec {
  // As checkDocument does for every other form: a "__proto__" name would vanish in the maps, a lone surrogate be changed.
  const reserved = rawValueIssues(body, []);
  if (reserved.length > 0) return unwrap({ ok: false, issues: reserved }, where);
  return unwrap(checkCntSpawnerBody(body), where);
}

function unwrap(checked: Checked<AppSpec>, where: string): AppSpec {
  if (checked.ok) return checked.value;
  throw new SpecError(toFieldProblems(checked.issues, where));
}
