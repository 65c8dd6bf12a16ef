// The overview: every app as a card, kept current from the store.

import { appCard } from './app-card.js';
import { fill, h } from './dom.js';
import { requestRate, sparkline } from './sparkline.js';
import { state, subscribe } from './store.js';
import { loadUsage, USAGE_EVENT, usageVersion } from './usage.js';
import { mountCertificates } from './certificates.js';

const RATE_REFRESH_MS = 60_000;

export function mountOverview(root) {
  const filterInput = h('input', { id: 'app-filter', type: 'search', placeholder: 'name…', autocomplete: 'off', spellcheck: 'false' });
  const count = h('span', { class: 'muted' });
  const grid = h('div', { class: 'app-grid', id: 'app-grid' });
  const empty = h('p', { class: 'empty muted', hidden: true });
  // HTTPS certificates (shown only with a tls block): ACME orders and their failures.
  const certificates = h('section', { class: 'certificates', id: 'certificates', 'aria-label': 'HTTPS certificates', hidden: true });
  fill(
    root,
    h(
      'div',
      { class: 'section-head' },
      h('h2', {}, 'Apps ', count),
      h('div', { class: 'filter' }, h('label', { for: 'app-filter', text: 'Filter' }), filterInput),
    ),
    grid,
    empty,
    certificates,
  );
  const unmountCertificates = mountCertificates(certificates);

  const visible = (app) => app.name.includes(filterInput.value.trim().toLowerCase());

  /** name → {signature, card}: a card is rebuilt only when its app changed. */
  const cards = new Map();

  function cardFor(app) {
    const signature = JSON.stringify(app) + usageVersion();
    const known = cards.get(app.name);
    if (known?.signature === signature) return known.card;
    const card = appCard(app);
    cards.set(app.name, { signature, card });
    return card;
  }

  function renderAll() {
    const apps = [...state.apps.values()].sort((a, b) => a.name.localeCompare(b.name));
    const shown = apps.filter(visible);
    count.textContent = `(${apps.length})`;
    for (const name of cards.keys()) if (!state.apps.has(name)) cards.delete(name);
    const focusKey = focusedKey();
    place(grid, shown.map(cardFor));
    restoreFocus(focusKey);
    empty.hidden = shown.length > 0;
    empty.textContent = state.loadError
      ? `The app list could not be read: ${state.loadError.message}`
      : !state.loaded
        ? 'Loading…'
        : apps.length
          ? 'No app matches the filter.'
          : 'No apps yet. Apply a spec with `berth apply -f app.yaml` or POST /v1/apps.';
  }

  async function refreshRates() {
    await loadUsage();
    for (const [name, app] of state.apps) {
      requestRate(name, { activityAt: Date.parse(app.status?.lastActivity ?? '') || 0 })
        .then((rate) => {
          const slot = grid.querySelector(`[data-spark-for="${CSS.escape(name)}"]`);
          if (slot) slot.replaceChildren(sparkline(rate));
        })
        .catch(() => undefined);
    }
  }

  filterInput.addEventListener('input', renderAll);
  window.addEventListener(USAGE_EVENT, renderAll);
  const unsubscribe = subscribe((change) => {
    if (change.kind === 'app' || change.kind === 'apps' || change.kind === 'deleted') renderAll();
    if (change.kind === 'apps' || change.kind === 'app') void refreshRates();
  });
  renderAll();
  void refreshRates();
  const timer = setInterval(() => document.visibilityState === 'visible' && void refreshRates(), RATE_REFRESH_MS);
  return () => {
    unsubscribe();
    window.removeEventListener(USAGE_EVENT, renderAll);
    clearInterval(timer);
    unmountCertificates();
  };
}

/**
 * Makes `parent`'s children exactly `wanted`, in order, moving only what is out of
 * place: a card that did not change stays in the document, and keeps focus.
 */
function place(parent, wanted) {
  wanted.forEach((el, i) => {
    if (parent.children[i] !== el) parent.insertBefore(el, parent.children[i] ?? null);
  });
  while (parent.children.length > wanted.length) parent.lastElementChild.remove();
}

/** Which card control has focus, so a re-render can give it back. */
function focusedKey() {
  const el = document.activeElement;
  const card = el?.closest?.('[data-app]');
  return card && el.dataset.key ? { app: card.dataset.app, key: el.dataset.key } : undefined;
}

function restoreFocus(focus) {
  if (!focus) return;
  const el = document.querySelector(`[data-app="${CSS.escape(focus.app)}"] [data-key="${CSS.escape(focus.key)}"]`);
  el?.focus();
}
