// The strip on top of every view: the gateway's health and totals.

import { fill, h, liveTime } from './dom.js';
import { cachedRate } from './sparkline.js';
import { state, subscribe } from './store.js';
import { loadUsage, USAGE_EVENT, usageTotal } from './usage.js';

const USAGE_REFRESH_MS = 60_000;

const STATE_ORDER = ['running', 'starting', 'stopping', 'paused', 'stopped', 'failed', 'crashloop'];

export function mountSummary(root) {
  function render() {
    const health = state.health;
    const byState = {};
    for (const app of state.apps.values()) byState[app.state] = (byState[app.state] ?? 0) + 1;
    let requests = 0;
    let capped = false;
    for (const name of state.apps.keys()) {
      const rate = cachedRate(name);
      requests += rate?.total ?? 0;
      // Rates are read for the cards on screen only: an app not counted makes the sum "at least".
      capped ||= rate === undefined || rate.capped;
    }
    const healthy = health?.status === 'ok';
    const uptimeStart = health ? new Date(state.healthReadAt - health.uptimeS * 1000) : undefined;
    const usage = usageTotal();
    fill(
      root,
      h('h2', { class: 'visually-hidden', text: 'Gateway' }),
      h(
        'dl',
        { class: 'summary-facts' },
        stat('Gateway', h('span', { class: 'health-dot', dataset: { ok: String(healthy) } }, health ? (healthy ? 'healthy' : health.status) : '…')),
        stat('Engine', health ? (health.engine === 'ok' ? 'answers' : h('span', { class: 'error-text', text: String(health.engine) })) : '…'),
        stat('Version', health?.version ?? '…'),
        stat('Uptime', uptimeStart ? liveTime(uptimeStart, 'uptime') : '…'),
        stat('Apps', String(state.apps.size)),
        stat('Requests, 1 h', `${requests}${capped ? '+' : ''}`),
        usage ? stat(usage.label, h('span', { title: usage.title, text: usage.value })) : null,
      ),
      h(
        'ul',
        { class: 'state-counts', 'aria-label': 'Apps by state' },
        STATE_ORDER.filter((s) => byState[s]).map((s) => h('li', { class: 'badge', dataset: { state: s } }, `${byState[s]} ${s}`)),
      ),
    );
  }
  // At most once a frame: a burst of events (one per app) is drawn once.
  let frame;
  const renderSoon = () => {
    frame ??= requestAnimationFrame(() => {
      frame = undefined;
      render();
    });
  };
  const unsubscribe = subscribe((change) => {
    if (change.kind === 'stream') return;
    renderSoon();
    // A start or a stop changes what the app costs from now on: read the figures again soon.
    if (change.kind === 'app' && change.previous && change.previous !== state.apps.get(change.name)?.state) void loadUsage({ maxAgeMs: 3000 });
  });
  window.addEventListener(USAGE_EVENT, renderSoon);
  render();
  void loadUsage();
  const timer = setInterval(() => document.visibilityState === 'visible' && void loadUsage(), USAGE_REFRESH_MS);
  return () => {
    unsubscribe();
    window.removeEventListener(USAGE_EVENT, renderSoon);
    clearInterval(timer);
    if (frame !== undefined) cancelAnimationFrame(frame);
  };
}

function stat(term, value) {
  return h('div', { class: 'stat' }, h('dt', { text: term }), h('dd', {}, value));
}
