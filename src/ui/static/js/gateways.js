// The gateways panel: every gateway sharing the store (GET /v1/gateways), which one
// leads, their addresses, versions and last heartbeats. On a SQLite store there is
// one gateway, and the panel stays out of the way (hidden).

import { api } from './api.js';
import { fill, h, liveTime } from './dom.js';

const REFRESH_MS = 2_000;

export function mountGateways(root) {
  let stopped = false;
  async function load() {
    if (stopped || document.visibilityState !== 'visible') return;
    let reply;
    try {
      reply = await api('/v1/gateways');
    } catch {
      return;
    }
    if (stopped) return;
    root.hidden = reply.gateways.length < 2;
    fill(
      root,
      h('h2', { class: 'gateways-title', text: `Gateways (${reply.gateways.filter((g) => g.alive).length} alive)` }),
      h(
        'table',
        { class: 'gateways-table' },
        h('thead', {}, h('tr', {}, ...['Gateway', 'Role', 'Proxy', 'Admin', 'Version', 'Heartbeat', 'In flight'].map((t) => h('th', { scope: 'col', text: t })))),
        h(
          'tbody',
          {},
          ...reply.gateways.map((g) =>
            h(
              'tr',
              { dataset: { alive: String(g.alive), leader: String(g.leader) } },
              h('td', {}, g.id, g.self ? h('span', { class: 'muted', text: ' (this one)' }) : null),
              h('td', {}, h('span', { class: 'badge', dataset: { state: g.leader ? 'running' : g.alive ? 'stopped' : 'failed' } }, g.leader ? 'leader' : g.alive ? 'follower' : 'gone')),
              h('td', { text: g.proxyAddress }),
              h('td', { text: g.adminAddress }),
              h('td', { text: g.version }),
              h('td', {}, liveTime(g.lastHeartbeat, 'ago')),
              h('td', { text: String(g.activity.reduce((n, a) => n + a.inFlight, 0)) }),
            ),
          ),
        ),
      ),
    );
  }
  void load();
  const timer = setInterval(() => void load(), REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
    root.hidden = true;
  };
}
