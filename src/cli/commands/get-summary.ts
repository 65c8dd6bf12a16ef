import type { AppView } from '../api-types.js';
import { printable } from '../api-errors.js';
import { idleIn, instanceCount, stateLabel } from '../app-display.js';
import type { Paint } from '../colour.js';
import { preciseDuration, relativeTime, shortDuration } from '../format.js';
import { renderTable } from '../table.js';
import { shownText } from '../terminal-text.js';

/** `berth get NAME` without -o: what a person wants to know about one app, like `kubectl describe`. */
export function appSummary(app: AppView, p: Paint, nowMs = Date.now()): string {
  const { spec, status } = app;
  const fields: Array<[string, string]> = [];
  // Every value below came from a spec someone applied, the engine or the app: shown, not obeyed by the terminal.
  fields.push(['Name', p.bold(shownText(app.name))]);
  fields.push(['Revision', `${shownText(String(app.revision))} (from ${app.source === 'api' ? 'the API' : 'the config file'}, updated ${relativeTime(app.updatedAt, nowMs)})`]);
  fields.push(['State', stateLine(app, p, nowMs)]);
  // Said beside the state: an app a narrowed policy refuses can still show `running`, and no start or replica follows.
  if (status?.policyRefused) fields.push(['Refused', p.yellow(`${printable(status.policyRefused)} (what runs serves on until it stops; no new container is made)`)]);
  if (status?.lastError) fields.push(['Last error', p.red(printable(status.lastError))]);
  // The app's own words: printable() keeps its escapes off the terminal.
  if (status?.lastOutput) fields.push(['Last output', printable(status.lastOutput)]);
  fields.push(['Image', shownText(spec.image)]);
  fields.push(['Port', shownText(String(spec.port))]);
  fields.push(['Routes', app.routes.map((r) => `${shownText(r.url)}${r.path && r.stripPrefix ? ' (prefix stripped)' : ''}`).join('\n') || '-']);
  const env = Object.entries(spec.env).map(([k, v]) => `${shownText(k)}=${shownText(envShown(v))}`);
  fields.push(['Env', env.join('\n') || '-']);
  if (spec.volume) fields.push(['Volume', shownText(`berth-${app.name}-data mounted at ${spec.volume}`)]);
  if (spec.network) fields.push(['Network', shownText(spec.network)]);
  fields.push(['Scale', `${shownText(`${spec.scale.min}..${spec.scale.max}`)}${spec.scale.min === 0 ? ' (scales to zero)' : ''}`]);
  fields.push(['Idle timeout', idleTimeoutShown(app)]);
  if (status) {
    fields.push(['Last request', relativeTime(status.lastActivity, nowMs)]);
    fields.push(['Idle stop', idleIn(app, nowMs)]);
    fields.push(['In flight', shownText(`${status.inFlight} request(s), ${status.waiting} waiting`)]);
    fields.push(['Replicas', shownText(`${status.readyInstances ?? 0} ready of ${status.replicas ?? 1}`)]);
  }
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  const lines = fields.flatMap(([key, value]) => value.split('\n').map((v, i) => (i === 0 ? `${(key + ':').padEnd(width)}${v}` : `${' '.repeat(width)}${v}`)));
  lines.push(`${'Instances:'.padEnd(width)}${instanceCount(app)} running`);
  if (app.instances.length > 0) {
    const rows = app.instances.map((i) => [shownText(i.name ?? '-'), shownText(i.state ?? '-'), shownText(i.health ?? '-'), shownText(i.address ?? '-'), relativeTime(i.startedAt, nowMs)]);
    const table = renderTable(['CONTAINER', 'STATE', 'HEALTH', 'ADDRESS', 'STARTED'], rows, p);
    lines.push(...table.trimEnd().split('\n').map((l) => `  ${l}`));
  }
  return lines.join('\n') + '\n';
}

/** The idle timeout in force, and whence it comes when the spec leaves it to the gateway. */
function idleTimeoutShown(app: AppView): string {
  const { spec, status } = app;
  if (spec.scale.min > 0) return 'never (scale.min is at least 1)';
  const inForce = spec.idleTimeoutMs ?? status?.idleTimeoutMs;
  if (inForce === undefined) return "the gateway's default";
  return spec.idleTimeoutMs === undefined ? `${shortDuration(inForce)} (the gateway's default)` : shortDuration(inForce);
}

/** A secret as the API gave it (the literal is already redacted by the gateway). */
export function envShown(value: AppView['spec']['env'][string]): string {
  if (typeof value !== 'object' || value === null) return String(value);
  if (value.fromFile !== undefined) return `(secret from file ${value.fromFile})`;
  if (value.fromEnv !== undefined) return `(secret from the gateway's variable ${value.fromEnv})`;
  return '<redacted>';
}

function stateLine(app: AppView, p: Paint, nowMs: number): string {
  const s = app.status;
  const state = stateLabel(app.state, p);
  if (!s) return state;
  let line = `${state} since ${relativeTime(s.since, nowMs)}`;
  if (s.state === 'running' && s.lastStartMs !== undefined) line += `, started in ${preciseDuration(s.lastStartMs)}`;
  if (s.state === 'crashloop' && s.retryAt) line += `, next try ${relativeTime(s.retryAt, nowMs)}`;
  // Why berth put it there (an idle stop, the API): a stopped app otherwise looks the same either way.
  if (s.reason) line += ` (${printable(s.reason)})`;
  return line;
}
