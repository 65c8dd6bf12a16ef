// The HTTPS certificates, from GET /v1/certificates: {https, items}. Items are file
// certificates ({names, source: 'file', status: valid|expired|not-yet-valid, cert, notAfter,
// lastError: why the files on disk were refused}) and ACME hosts
// ({host, source: 'acme', status: valid|expired|ordering|failed|pending, notAfter, lastError,
// failures, retryAt}). Shown under the apps only when the gateway has a tls block; a
// failed order shows the CA's reason and when it is retried.

import { api } from './api.js';
import { fill, h, relative } from './dom.js';

const REFRESH_MS = 60_000;

/** The status word as an app state badge would colour it. */
const BADGE_STATE = { valid: 'running', ordering: 'starting', pending: 'stopped', failed: 'failed', expired: 'failed', 'not-yet-valid': 'failed' };

export function mountCertificates(root) {
  async function refresh() {
    let report;
    try {
      report = await api('/v1/certificates');
    } catch {
      // An older gateway (404) or a failed read: the section stays hidden.
      root.hidden = true;
      return;
    }
    root.hidden = !report.https;
    if (!report.https) return;
    const rows = report.items.map((c) =>
      h(
        'tr',
        { dataset: { certificate: c.host ?? c.names.join(',') } },
        h('td', { text: c.host ?? c.names.join(', ') }),
        h('td', { text: c.source === 'acme' ? 'ACME' : 'file' }),
        h('td', {}, h('span', { class: 'badge', dataset: { state: BADGE_STATE[c.status] ?? 'stopped' } }, c.status)),
        h('td', { title: c.notAfter ?? '' }, c.notAfter ? relative(new Date(c.notAfter), 'until') : '—'),
        h(
          'td',
          { class: c.lastError ? 'error-text' : 'muted' },
          c.lastError ? `${c.lastError}${c.retryAt ? ` (retried ${relative(new Date(c.retryAt), 'until')})` : ''}` : c.source === 'file' ? c.cert : '',
        ),
      ),
    );
    fill(
      root,
      h('div', { class: 'section-head' }, h('h2', {}, 'Certificates ', h('span', { class: 'muted', text: `(${report.items.length})` }))),
      h(
        'div',
        { class: 'table-wrap' },
        h('table', {}, h('thead', {}, h('tr', {}, ['Host', 'Source', 'Status', 'Expires', 'Last error / file'].map((t) => h('th', { scope: 'col', text: t })))), h('tbody', {}, rows)),
      ),
    );
  }
  void refresh();
  const timer = setInterval(() => document.visibilityState === 'visible' && void refresh(), REFRESH_MS);
  return () => clearInterval(timer);
}
