// One app on the overview: state, routes, instances, activity, idle countdown, cold-start
// time, request rate and last error, at a glance.

import { duration, h, liveTime, shortId, startDuration, stateBadge } from './dom.js';
import { cachedRate, sparkline } from './sparkline.js';
import { usageLine } from './usage.js';

export function appCard(app) {
  const status = app.status ?? {};
  const detail = `#/apps/${encodeURIComponent(app.name)}`;
  return h(
    'article',
    { class: 'card app-card', dataset: { app: app.name, state: app.state }, 'aria-labelledby': `card-${app.name}` },
    h(
      'header',
      { class: 'card-head' },
      h('h3', { id: `card-${app.name}` }, h('a', { href: detail, dataset: { key: 'name' }, text: app.name })),
      stateBadge(app.state),
    ),
    routeList(app.routes),
    h(
      'dl',
      { class: 'facts' },
      fact('Instances', instancesText(app)),
      fact('Last request', liveTime(status.lastActivity, 'ago', 'none yet')),
      fact('Idle stop', idleStop(app)),
      fact('Cold start', startDuration(status.lastStartMs)),
      fact('Requests, 1 h', h('span', { class: 'spark-slot', dataset: { sparkFor: app.name } }, sparkline(cachedRate(app.name)))),
      usageLine(app.name),
    ),
    lastError(status, CARD_ERROR_CHARS),
  );
}

export function fact(term, ...value) {
  return h('div', { class: 'fact' }, h('dt', { text: term }), h('dd', {}, ...value));
}

export function routeList(routes = []) {
  if (!routes.length) return h('p', { class: 'muted', text: 'no routes' });
  return h(
    'ul',
    { class: 'routes', 'aria-label': 'Routes' },
    routes.map((r, i) => h('li', {}, h('a', { href: r.url, target: '_blank', rel: 'noopener noreferrer', dataset: { key: `route-${i}` }, text: r.url }))),
  );
}

export function instancesText(app) {
  const status = app.status ?? {};
  const running = (app.instances ?? []).filter((i) => i.state === 'running');
  const ids = running.map((i) => shortId(i.id)).join(', ');
  const ready = `${status.readyInstances ?? 0} of ${status.replicas ?? 1} ready`;
  return h('span', {}, ready, ids ? h('span', { class: 'muted mono ids', title: 'running containers', text: ids }) : null);
}

/** When the app will be stopped for idleness, and why not when it will not. */
export function idleStop(app) {
  const status = app.status ?? {};
  if (app.state !== 'running') return h('span', { class: 'muted', text: '—' });
  if (status.inFlight > 0) return h('span', { text: `not while ${status.inFlight} request${status.inFlight === 1 ? ' is' : 's are'} in flight` });
  if (!status.idleAt) return h('span', { class: 'muted', text: 'never (scale.min ≥ 1)' });
  return liveTime(status.idleAt, 'until');
}

/**
 * The idle timeout in force, as `berth get` says it: the spec's, else the gateway's
 * default (status.idleTimeoutMs carries the one in force), and what happens then. The
 * countdown alone says nothing while the app is stopped, nor whether it will be
 * stopped or paused.
 */
export function idleTimeoutText(app) {
  const spec = app.spec ?? {};
  if ((spec.scale?.min ?? 0) > 0) return 'never (scale.min ≥ 1)';
  const inForce = spec.idleTimeoutMs ?? app.status?.idleTimeoutMs;
  if (inForce === undefined) return "the gateway's default";
  const from = spec.idleTimeoutMs === undefined ? " (the gateway's default)" : '';
  return `${duration(inForce)}${from}, then ${spec.idleAction === 'pause' ? 'paused' : 'stopped'}`;
}

/**
 * On a card a reason is cut to this many characters: an app's own exit message can
 * make it kilobytes, and a grid of such cards would be mostly error text. The app's
 * page shows it whole.
 */
export const CARD_ERROR_CHARS = 300;

/** An app the gateway's policy in force refuses (a reload narrowed it): it may still show running, and nothing new starts. */
export function policyRefused(status) {
  if (!status?.policyRefused) return null;
  return h('p', { class: 'last-error', role: 'note' }, h('strong', { text: 'Refused by the policy: ' }), `${status.policyRefused} (what runs serves on until it stops; no new container is made)`);
}

export function lastError(status, maxChars = Infinity) {
  if (!status?.lastError) return null;
  const text = status.lastError.length > maxChars ? `${status.lastError.slice(0, maxChars)}…` : status.lastError;
  const error = h('p', { class: 'last-error', role: 'note' }, h('strong', { text: 'Last error: ' }), text);
  if (!status.lastOutput) return error;
  const output = status.lastOutput.replace(/^its last output: /, '');
  return h('div', {}, error, h('p', { class: 'last-error', role: 'note' }, h('strong', { text: 'Its last output: ' }), output.length > maxChars ? `${output.slice(0, maxChars)}…` : output));
}
