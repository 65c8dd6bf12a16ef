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
import { readDocuments } from './documents.js';
import { checkCntSpawnerBody } from './cntspawner.js';
import { checkDocument, protoKeyIssues } from './forms.js';
import type { Checked } from './path.js';
import { formatPath, toFieldProblems } from './path.js';
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
  for (const doc of read.documents) {
    const checked = checkDocument(doc.value);
    if (checked.ok) {
      specs.push(checked.value);
      continue;
    }
    const located = checked.issues.map((issue) => ({ issue, line: showLines ? doc.lineOf(issue.path) : undefined }));
    // In reading order, so the list can be worked through from the top of the file.
    located.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    for (const { issue, line } of located) {
      const message = line === undefined ? issue.message : `${issue.message} (line ${line})`;
      problems.push({ path: formatPath([...doc.at, ...issue.path]), message });
    }
  }
  if (problems.length > 0) throw new SpecError(listed(problems), source);
  return specs;
}

/**
 * The most problems one refusal lists. A 1 MiB body of 500,000 list items made an
 * error message of 27 MB (and an answer twice that); past the first few hundred,
 * more of the same helps nobody.
 */
export const MAX_LISTED_PROBLEMS = 200;

function listed(problems: FieldProblem[]): FieldProblem[] {
  if (problems.length <= MAX_LISTED_PROBLEMS) return problems;
  const more = problems.length - MAX_LISTED_PROBLEMS;
  return [...problems.slice(0, MAX_LISTED_PROBLEMS), { path: '(more)', message: `${more} more problem${more === 1 ? '' : 's'} not listed; fix these first` }];
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
  // As checkDocument does for every other form: a "__proto__" name would vanish in the maps.
  const reserved = protoKeyIssues(body, []);
  if (reserved.length > 0) return unwrap({ ok: false, issues: reserved }, where);
  return unwrap(checkCntSpawnerBody(body), where);
}

function unwrap(checked: Checked<AppSpec>, where: string): AppSpec {
  if (checked.ok) return checked.value;
  throw new SpecError(toFieldProblems(checked.issues, where));
}
