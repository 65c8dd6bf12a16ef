// Usage and saving per app, from the accounting API: GET /v1/usage?since=7d answers
// {since, until, days: [{app, day, …figures}], apps: [{app, days, …figures}], total},
// figures being runningSeconds, pausedSeconds, idleSeconds, requests, alwaysOnSeconds,
// savingSeconds and savingPercent (null when nothing was watched). A gateway without
// the accounting API (404) simply shows no usage.

import { ApiError, api } from './api.js';
import { duration, h } from './dom.js';

const REFRESH_MS = 60_000;
/** The period the dashboard shows. */
export const USAGE_PERIOD = '7d';

/** 'unknown' (not asked yet) | 'absent' (no such API) | 'ok' */
let availability = 'unknown';
let byApp = new Map();
let total;
let readAt = 0;

/** Changes whenever new figures were read, so views know to redraw. */
export function usageVersion() {
  return availability === 'ok' ? readAt : 0;
}

/** Fired on `window` when new figures were read. */
export const USAGE_EVENT = 'berth:usage';

/** Reads the figures of every app unless read less than `maxAgeMs` ago; true when there are some. */
export async function loadUsage({ maxAgeMs = REFRESH_MS } = {}) {
  if (availability === 'absent') return false;
  if (Date.now() - readAt < maxAgeMs) return availability === 'ok';
  readAt = Date.now();
  try {
    const report = await api(`/v1/usage?since=${USAGE_PERIOD}`);
    byApp = new Map((report.apps ?? []).map((u) => [u.app, u]));
    total = report.total;
    availability = 'ok';
    window.dispatchEvent(new CustomEvent(USAGE_EVENT));
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) availability = 'absent';
    return false;
  }
}

/** One app's rows per UTC day, newest first; undefined without the accounting API. */
export async function usageDays(name) {
  if (availability === 'absent') return undefined;
  try {
    const report = await api(`/v1/usage?since=${USAGE_PERIOD}&app=${encodeURIComponent(name)}`);
    return [...(report.days ?? [])].reverse();
  } catch {
    return undefined;
  }
}

export function percent(figures) {
  return figures?.savingPercent === null || figures?.savingPercent === undefined ? '—' : `${Math.round(figures.savingPercent)}%`;
}

export function containerTime(seconds) {
  return seconds > 0 ? duration(seconds * 1000) : '0 s';
}

/** The app's saving as a fact for a card, or nothing while there are no figures. */
export function usageLine(name) {
  const u = byApp.get(name);
  if (availability !== 'ok' || !u) return null;
  const title = `${USAGE_PERIOD}: ran ${containerTime(u.runningSeconds)} of ${containerTime(u.alwaysOnSeconds)} always-on (container time), saved ${containerTime(u.savingSeconds)}`;
  return h('div', { class: 'fact' }, h('dt', { text: `Saving, ${USAGE_PERIOD}` }), h('dd', { title }, `${percent(u)} · ran ${containerTime(u.runningSeconds)}`));
}

/** The gateway-wide saving for the summary, or nothing. */
export function usageTotal() {
  if (availability !== 'ok' || !total) return null;
  return { label: `Saving, ${USAGE_PERIOD}`, value: `${percent(total)} of always-on`, title: `saved ${containerTime(total.savingSeconds)} of ${containerTime(total.alwaysOnSeconds)} container time` };
}

/** A table of an app's usage per day, for its detail view. */
export function usageTable(days) {
  if (!days?.length) return h('p', { class: 'muted', text: 'No usage recorded yet.' });
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Usage by day' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ['Day (UTC)', 'Running', 'Paused', 'Idle', 'Requests', 'Saving'].map((t) => h('th', { scope: 'col', text: t })))),
      h(
        'tbody',
        {},
        days.map((d) =>
          h(
            'tr',
            {},
            h('td', { text: d.day }),
            h('td', { class: 'num', text: containerTime(d.runningSeconds) }),
            h('td', { class: 'num', text: containerTime(d.pausedSeconds) }),
            h('td', { class: 'num', text: containerTime(d.idleSeconds) }),
            h('td', { class: 'num', text: String(d.requests) }),
            h('td', { class: 'num', text: percent(d) }),
          ),
        ),
      ),
    ),
  );
}
