// One app: header with state and actions, and tabs for its status, request history,
// logs and spec. Tabs are links (#/apps/NAME/logs), so each has an address and the
// browser's back button works.

import { actionBar, actionBarKey } from './actions.js';
import { fact, idleStop, idleTimeoutText, lastError, policyRefused, routeList } from './app-card.js';
import { fill, h, liveTime, shortId, startDuration, stateBadge } from './dom.js';
import { mountHistory } from './history-view.js';
import { mountLogs } from './logs-view.js';
import { requestRate, sparkline } from './sparkline.js';
import { mountSpec } from './spec-view.js';
import { loadApp, state, subscribe } from './store.js';
import { USAGE_PERIOD, usageDays, usageLine, usageTable } from './usage.js';

const TABS = [
  ['', 'Status'],
  ['requests', 'Requests'],
  ['logs', 'Logs'],
  ['spec', 'Spec'],
];

export function mountDetail(root, name, requestedTab = '') {
  const tab = TABS.some(([key]) => key === requestedTab) ? requestedTab : '';
  const base = `#/apps/${encodeURIComponent(name)}`;
  const badgeSlot = h('span', { class: 'badge-slot' });
  const meta = h('p', { class: 'muted' });
  const actionsSlot = h('div');
  const panel = h('section', { id: 'tab-panel', class: 'panel', 'aria-labelledby': `tab-${tab || 'status'}` });
  let unmountPanel = () => undefined;
  /** actionBarKey of the app the bar on screen was built for; undefined when there is none. */
  let actionsFor;

  fill(
    root,
    h('p', { class: 'back' }, h('a', { href: '#/', text: '← All apps' })),
    h('div', { class: 'detail-head' }, h('h2', { id: 'app-title' }, name, ' ', badgeSlot), meta),
    actionsSlot,
    h(
      'nav',
      { class: 'tabs', 'aria-label': `Views of ${name}` },
      TABS.map(([key, label]) => h('a', { id: `tab-${key || 'status'}`, href: key ? `${base}/${key}` : base, 'aria-current': key === tab ? 'page' : undefined, text: label })),
    ),
    panel,
  );

  function renderHead() {
    const app = state.apps.get(name);
    if (!app) return;
    fill(badgeSlot, stateBadge(app.state));
    fill(meta, `revision ${app.revision} · declared in ${app.source === 'config' ? 'the config file' : 'the API'} · ${app.state} `, liveTime(app.status?.since, 'ago', ''));
    // Rebuilt only when what it is built from changes (an apply raising scale.max, the app made
    // again after a delete): on every event it would take focus and a half-typed count away.
    const key = actionBarKey(app);
    if (key !== actionsFor) {
      fill(actionsSlot, actionBar(app, { onDeleted: () => (location.hash = '#/') }));
      actionsFor = key;
    }
  }

  let rendered;
  function renderPanel() {
    const app = state.apps.get(name);
    // The list is re-read every few seconds; redrawing an unchanged panel would only take focus away.
    const signature = JSON.stringify(app ?? null) + state.loaded;
    if (signature === rendered) return;
    rendered = signature;
    if (!app) {
      fill(panel, h('p', { class: state.loaded ? 'error' : 'muted', text: state.loaded ? `There is no app named ${name}.` : 'Loading…' }));
      return;
    }
    if (tab === '') return renderStatus(panel, app);
    if (tab === 'spec') return mountSpec(panel, app);
  }

  if (tab === 'requests') unmountPanel = mountHistory(panel, name);
  else if (tab === 'logs') unmountPanel = mountLogs(panel, name);

  const unsubscribe = subscribe((change) => {
    if (change.name !== undefined && change.name !== name) return;
    if (change.kind === 'deleted') {
      fill(panel, h('p', { class: 'muted', text: `${name} was deleted.` }));
      actionsSlot.replaceChildren();
      actionsFor = undefined;
      return;
    }
    if (change.kind !== 'app' && change.kind !== 'apps') return;
    renderHead();
    if (tab === '' || tab === 'spec') renderPanel();
  });

  renderHead();
  if (tab === '' || tab === 'spec') renderPanel();
  if (!state.apps.has(name)) void loadApp(name);
  return () => {
    unsubscribe();
    unmountPanel();
  };
}

function renderStatus(panel, app) {
  const status = app.status ?? {};
  const rateSlot = h('span', { class: 'spark-slot' }, '…');
  const usage = usageLine(app.name);
  const usageSlot = h('div');
  fill(
    panel,
    h(
      'dl',
      { class: 'facts facts-wide' },
      fact('State', `${app.state} `, liveTime(status.since, 'ago', ''), status.reason ? ` (${status.reason})` : ''),
      fact('Last request', liveTime(status.lastActivity, 'ago', 'none yet')),
      fact('Idle stop', idleStop(app)),
      fact('Idle timeout', idleTimeoutText(app)),
      fact('Last cold start', startDuration(status.lastStartMs)),
      fact('In flight', String(status.inFlight ?? 0)),
      fact('Waiting for a start', String(status.waiting ?? 0)),
      fact('Replicas', `${status.readyInstances ?? 0} ready of ${status.replicas ?? 1}`),
      status.retryAt ? fact('Next try', liveTime(status.retryAt, 'until')) : null,
      fact('Requests, 1 h', rateSlot),
      usage,
    ),
    policyRefused(status),
    lastError(status),
    h('h3', { text: 'Routes' }),
    routeList(app.routes),
    h('h3', { text: 'Instances' }),
    instancesTable(app.instances ?? []),
    usageSlot,
  );
  requestRate(app.name, { activityAt: Date.parse(status.lastActivity ?? '') || 0 })
    .then((rate) => rateSlot.replaceChildren(sparkline(rate)))
    .catch(() => rateSlot.replaceChildren('—'));
  void usageDays(app.name).then((days) => {
    if (days) fill(usageSlot, h('h3', { text: `Usage by day, last ${USAGE_PERIOD}` }), usageTable(days));
  });
}

function instancesTable(instances) {
  if (!instances.length) return h('p', { class: 'muted', text: 'No containers: the next request starts one.' });
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Instances' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ['Container', 'Name', 'State', 'Health', 'Address', 'Started'].map((t) => h('th', { scope: 'col', text: t })))),
      h(
        'tbody',
        {},
        instances.map((i) =>
          h(
            'tr',
            {},
            h('td', { class: 'mono', title: i.id, text: shortId(i.id) }),
            h('td', { class: 'mono', text: i.name }),
            h('td', {}, stateBadge(i.state)),
            h('td', { text: i.health ?? '—' }),
            h('td', { class: 'mono', text: i.address ?? '—' }),
            h('td', {}, liveTime(i.startedAt, 'ago')),
          ),
        ),
      ),
    ),
  );
}
