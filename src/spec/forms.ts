/**
 * Which form a document is written in, decided by its `apiVersion`: "berth/v1",
 * or "v1" for an SWS service declaration. A cntSpawner `POST /v1/` body has no
 * apiVersion; it is recognised by having only cntSpawner's keys, including
 * `labels`, `envs` or `network`, so a berth/v1 document that merely forgot its
 * apiVersion is told so instead of being read as something else.
 */
import { checkBerthApp } from './berth-v1.js';
import { CNTSPAWNER_KEYS, checkCntSpawnerBody } from './cntspawner.js';
import type { Checked } from './path.js';
import { rawValueIssues } from './raw-value.js';
import { isRecord } from './record.js';
import { checkSwsApp } from './sws.js';
import type { AppSpec } from './types.js';

export type SpecForm = 'berth/v1' | 'sws/v1' | 'cntspawner';

const API_VERSIONS = '"berth/v1" (or "v1" for an SWS service declaration)';

export function detectForm(doc: Record<string, unknown>): SpecForm | undefined {
  if (doc.apiVersion === 'berth/v1') return 'berth/v1';
  if (doc.apiVersion === 'v1') return 'sws/v1';
  const keys = Object.keys(doc);
  const onlyCntSpawnerKeys = keys.every((key) => CNTSPAWNER_KEYS.includes(key));
  const hasCntSpawnerMark = ['labels', 'envs', 'network'].some((key) => key in doc);
  if (doc.apiVersion === undefined && onlyCntSpawnerKeys && hasCntSpawnerMark) return 'cntspawner';
  return undefined;
}

/** Checks a document of any accepted form and normalizes it into an AppSpec. */
export function checkDocument(doc: unknown): Checked<AppSpec> {
  if (!isRecord(doc)) {
    return { ok: false, issues: [{ path: [], message: 'must be a mapping of fields (an app spec)' }] };
  }
  const reserved = rawValueIssues(doc, []);
  if (reserved.length > 0) return { ok: false, issues: reserved };
  switch (detectForm(doc)) {
    case 'berth/v1':
      return checkBerthApp(doc);
    case 'sws/v1':
      return checkSwsApp(doc);
    case 'cntspawner':
      return checkCntSpawnerBody(doc);
    default:
      if (doc.apiVersion !== undefined) {
        const message = `unsupported apiVersion ${JSON.stringify(doc.apiVersion)}: use ${API_VERSIONS}`;
        return { ok: false, issues: [{ path: ['apiVersion'], message }] };
      }
      return isAppView(doc) ? appViewRefused(doc) : missingApiVersion(doc);
  }
}

/**
 * The app as `berth get -o yaml|json` (GET /v1/apps/NAME) shows it: its state around its
 * spec in berth's internal form. kubectl's habit applies that output back; here it got an
 * "unknown field" for each of the view's nine fields and no word of what to do instead.
 */
function isAppView(doc: Record<string, unknown>): boolean {
  return isRecord(doc.spec) && 'revision' in doc && 'state' in doc && 'instances' in doc;
}

function appViewRefused(doc: Record<string, unknown>): Checked<AppSpec> {
  const name = typeof doc.name === 'string' && /^[a-z0-9-]{1,63}$/.test(doc.name) ? doc.name : 'NAME';
  const message = `this is the app as \`berth get -o yaml|json\` shows it (its state, and its spec in berth's internal form), not a spec to apply: \`berth get ${name} --export\` prints the spec as a berth/v1 document`;
  return { ok: false, issues: [{ path: ['spec'], message }] };
}

/** Most likely a berth/v1 document without its first line: report that and everything else wrong. */
function missingApiVersion(doc: Record<string, unknown>): Checked<AppSpec> {
  const checked = checkBerthApp(doc);
  const others = checked.ok ? [] : checked.issues.filter((issue) => issue.path[0] !== 'apiVersion');
  return { ok: false, issues: [{ path: ['apiVersion'], message: `required: ${API_VERSIONS}` }, ...others] };
}
