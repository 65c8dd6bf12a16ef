// An app's request history: newest first, filtered by status class and time, paged
// with the API's `next` cursor. On the first page it follows new requests live: the
// event stream says when the app has new records (once a second at most) and the
// page is read again.

import { api, appPath } from './api.js';
import { subscribe } from './store.js';
import { bytes, clockTime, fill, h, startDuration } from './dom.js';

const PAGE_SIZE = 50;
const SINCE = [
  ['15m', 'last 15 minutes'],
  ['1h', 'last hour'],
  ['6h', 'last 6 hours'],
  ['1d', 'last day'],
  ['7d', 'last 7 days'],
  ['', 'all kept'],
];
/**
 * The status filter's choices. A WebSocket is recorded when it ends, with 101 when the
 * app accepted it (README: "A WebSocket is recorded"), so 1xx is how its tunnels are found.
 */
export const CLASSES = [
  ['', 'all'],
  ['1xx', '1xx WebSocket'],
  ['2xx', '2xx success'],
  ['3xx', '3xx redirect'],
  ['4xx', '4xx client error'],
  ['5xx', '5xx server error'],
];

export function mountHistory(root, name) {
  const statusSelect = select('history-status', CLASSES, '');
  const sinceSelect = select('history-since', SINCE, '1h');
  const table = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Requests' });
  const info = h('p', { class: 'muted', role: 'status' });
  const newer = h('button', { type: 'button', text: '← Newer', disabled: true });
  const older = h('button', { type: 'button', text: 'Older →', disabled: true });
  const refresh = h('button', { type: 'button', text: 'Refresh' });
  const live = h('input', { type: 'checkbox', id: 'history-live', checked: true });
  /** Cursors of the pages shown so far; the last one is the page on screen. */
  let cursors = [undefined];
  let next;
  let loading = 0;

  async function load() {
    const ticket = ++loading;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (statusSelect.value) params.set('status', statusSelect.value);
    if (sinceSelect.value) params.set('since', sinceSelect.value);
    const cursor = cursors.at(-1);
    if (cursor) params.set('cursor', cursor);
    info.textContent = 'Loading…';
    try {
      const page = await api(appPath(name, `/history?${params}`));
      if (ticket !== loading) return;
      next = page.next;
      fill(table, page.items.length ? historyTable(page.items) : h('p', { class: 'empty muted', text: 'No requests match.' }));
      const first = (cursors.length - 1) * PAGE_SIZE + 1;
      info.textContent = page.items.length ? `Requests ${first}–${first + page.items.length - 1}, newest first` : '';
    } catch (err) {
      if (ticket !== loading) return;
      next = undefined;
      fill(table, h('p', { class: 'error', text: err.message }));
      info.textContent = '';
    }
    older.disabled = !next;
    newer.disabled = cursors.length <= 1;
  }

  const restart = () => {
    cursors = [undefined];
    void load();
  };
  statusSelect.addEventListener('change', restart);
  sinceSelect.addEventListener('change', restart);
  refresh.addEventListener('click', restart);
  older.addEventListener('click', () => {
    if (!next) return;
    cursors.push(next);
    void load();
  });
  newer.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    void load();
  });

  fill(
    root,
    h(
      'form',
      { class: 'toolbar', onsubmit: (e) => e.preventDefault(), 'aria-label': 'Filter requests' },
      h('label', { for: 'history-status', text: 'Status' }),
      statusSelect,
      h('label', { for: 'history-since', text: 'Time' }),
      sinceSelect,
      refresh,
      live,
      h('label', { for: 'history-live', text: 'Follow new requests' }),
    ),
    info,
    table,
    h('div', { class: 'pager' }, newer, older),
  );
  void load();
  let inFlight = false;
  const unsubscribe = subscribe((change) => {
    // Only the newest page moves; an older page the reader is on stays put.
    if (change.kind !== 'requests' || change.name !== name || !live.checked || cursors.length > 1 || inFlight) return;
    inFlight = true;
    void load().finally(() => (inFlight = false));
  });
  return () => {
    loading++;
    unsubscribe();
  };
}

function select(id, options, value) {
  return h('select', { id, name: id }, options.map(([v, label]) => h('option', { value: v, selected: v === value, text: label })));
}

function historyTable(items) {
  // Several gateways on one store: each request names the one that served it.
  const gateways = items.some((r) => r.gateway);
  const headers = ['Time', 'Method', 'Path', 'Status', 'Duration', 'Cold start', 'Sent', 'Client', 'Instance', ...(gateways ? ['Gateway'] : [])];
  return h(
    'table',
    { class: 'history' },
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col', text: t })))),
    h(
      'tbody',
      {},
      items.map((r) =>
        h(
          'tr',
          {},
          h('td', {}, h('time', { datetime: r.time, title: new Date(r.time).toLocaleString() }, clockTime(r.time))),
          h('td', { text: r.method }),
          h('td', { class: 'mono path', text: r.path }),
          h('td', {}, h('span', { class: 'status-code', dataset: { class: r.status ? `${String(r.status)[0]}xx` : 'none' }, text: r.status || 'gone' })),
          h('td', { class: 'num', text: startDuration(r.durationMs) }),
          h('td', { text: r.waited ? 'waited' : '' }),
          h('td', { class: 'num', text: bytes(r.bytesOut) }),
          h('td', { class: 'mono', text: r.client }),
          h('td', { class: 'mono', text: r.instance ? String(r.instance) : '' }),
          gateways ? h('td', { class: 'mono', text: r.gateway ?? '' }) : null,
        ),
      ),
    ),
  );
}
