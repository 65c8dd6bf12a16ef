/**
 * `berth get NAME --export`: the app's spec as the berth/v1 document a user writes,
 * to edit and `berth apply -f` again (kubectl's `get -o yaml > x.yaml; apply -f x.yaml`).
 * `-o yaml|json` alone prints the API's view of the app (state, instances, the spec in
 * berth's internal form), which scripts read and which is no spec.
 *
 * Loaded by `--export` alone: the spec parser it checks with brings zod, which no
 * other `berth get` needs (cli-startup-imports.test.ts).
 */
import { RuntimeError } from '../../errors.js';
import { canonicalJson } from '../../spec/hash.js';
import { redactSpec, REDACTED } from '../../spec/env-value.js';
import { parseSpecObject } from '../../spec/parse.js';
import { redactedVariables, specDocument, unwrittenFields, type SpecDocument } from '../../spec/spec-document.js';
import { specYamlText } from '../../spec/spec-yaml.js';
import type { AppSpec } from '../../spec/types.js';
import type { AppView } from '../api-types.js';
import { shownText } from '../terminal-text.js';

export interface Exported {
  /** What goes to stdout: the document, in YAML or JSON. */
  text: string;
  /** What goes to stderr: one line for each secret the document carries only the marker of. */
  notes: string[];
}

/**
 * The export of `app` as the API showed it. Refused (RuntimeError) when the document
 * would not apply back to exactly this spec, once its secrets are written in: a field
 * of a newer gateway this CLI cannot write, or a spec that is no valid one. An export
 * re-applied must never quietly change the app. Pure but for loading the parser.
 */
export function exportApp(app: AppView, format: 'yaml' | 'json'): Exported {
  // Whatever a server sends: a spec that is no object is one line and exit 6, not a TypeError of this CLI (exit 1).
  if (typeof app.spec !== 'object' || app.spec === null || Array.isArray(app.spec)) {
    throw new RuntimeError(`cannot export ${shownText(String(app.name))}: the API's answer has no spec; is --url a berth admin API, of this CLI's version (berth version)?`);
  }
  const spec = app.spec as unknown as AppSpec;
  const unknown = unwrittenFields(spec);
  if (unknown.length > 0) {
    throw new RuntimeError(`cannot export ${app.name}: the gateway's spec has ${unknown.map((f) => JSON.stringify(f)).join(', ')}, which this berth CLI does not know; use a berth CLI of the gateway's version (berth version)`);
  }
  const doc = exactDocument(spec, app.name);
  // Names the parser took (exactDocument), shown as escapes all the same: a header line must stay one comment line.
  const secrets = redactedVariables(spec).map((key) => shownText(key));
  const notes = secrets.map((key) => `env.${key} is a secret the API does not show: write its value in place of "${REDACTED}" before applying (apply refuses the marker)`);
  if (format === 'json') return { text: JSON.stringify(doc, null, 2) + '\n', notes };
  const header = secrets.length > 0 ? `# Secrets are not shown: write the value of ${secrets.map((k) => `env.${k}`).join(', ')} in place of "${REDACTED}" before applying.\n` : '';
  return { text: header + specYamlText(doc), notes };
}

/** The document, checked to parse back to `spec` (secrets aside, which neither side shows). */
function exactDocument(spec: AppSpec, name: string): SpecDocument {
  let back: AppSpec;
  let doc: SpecDocument;
  try {
    doc = specDocument(spec);
    // A stand-in for each marker, so the parser takes the document; the result is redacted again.
    const env = Object.fromEntries(Object.entries((doc.env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, isMarker(v) ? { secret: 'stand-in' } : v]));
    back = parseSpecObject({ ...doc, ...(doc.env ? { env } : {}) });
  } catch (err) {
    throw new RuntimeError(`cannot export ${name}: the gateway's spec is not one this berth CLI can write (${(err as Error).message}); is the CLI of the gateway's version (berth version)?`, { cause: err });
  }
  const differ = [...new Set([...Object.keys(spec), ...Object.keys(back)])].filter((key) => canonicalJson(redactSpec(back)[key as keyof AppSpec]) !== canonicalJson(spec[key as keyof AppSpec]));
  if (differ.length > 0) {
    throw new RuntimeError(`cannot export ${name}: its ${differ.join(', ')} would not apply back as the gateway holds ${differ.length === 1 ? 'it' : 'them'}; is the CLI of the gateway's version (berth version)?`);
  }
  return doc;
}

function isMarker(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { secret?: unknown }).secret === REDACTED;
}
