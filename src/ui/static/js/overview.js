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

  /**
   * name → {app, usage, signature, card}: a card is rebuilt only when its app changed.
   * The store replaces an app's object on every change, so an unchanged one is told
   * by identity; only a new object (a re-read list) is compared by its contents.
   */
  const cards = new Map();

  /**
   * The apps whose card is on screen (or nearly): only these have their request rate
   * read. Every card's rate would be a history query per app each minute, thousands
   * of them on a large gateway, for charts nobody sees.
   */
  const onScreen = new Set();
  const watcher = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const name = entry.target.dataset.app;
        if (!entry.isIntersecting) onScreen.delete(name);
        else if (!onScreen.has(name)) {
          onScreen.add(name);
          refreshRate(name);
        }
      }
    },
    { rootMargin: '300px 0px' },
  );

  function cardFor(app) {
    const usage = usageVersion();
    const known = cards.get(app.name);
    if (known?.app === app && known.usage === usage) return known.card;
    const signature = JSON.stringify(app);
    if (known?.signature === signature && known.usage === usage) {
      known.app = app;
      return known.card;
    }
    if (known) watcher.unobserve(known.card);
    const card = appCard(app);
    cards.set(app.name, { app, usage, signature, card });
    watcher.observe(card);
    return card;
  }

  /**
   * Draws at most once a frame: a burst of events (one per app when a gateway
   * restarts) is drawn once, not once per event over every card.
   */
  let frame;
  function renderSoon() {
    frame ??= requestAnimationFrame(() => {
      frame = undefined;
      renderAll();
    });
  }

  function renderAll() {
    const apps = [...state.apps.values()].sort((a, b) => a.name.localeCompare(b.name));
    const shown = apps.filter(visible);
    count.textContent = `(${apps.length})`;
    for (const [name, { card }] of cards) {
      if (state.apps.has(name)) continue;
      watcher.unobserve(card);
      onScreen.delete(name);
      cards.delete(name);
    }
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

  function refreshRate(name) {
    const app = state.apps.get(name);
    if (!app) return;
    requestRate(name, { activityAt: Date.parse(app.status?.lastActivity ?? '') || 0 })
      .then((rate) => {
        const slot = grid.querySelector(`[data-spark-for="${CSS.escape(name)}"]`);
        if (slot) slot.replaceChildren(sparkline(rate));
      })
      .catch(() => undefined);
  }

  async function refreshRates() {
    await loadUsage();
    for (const name of onScreen) refreshRate(name);
  }

  filterInput.addEventListener('input', renderAll);
  window.addEventListener(USAGE_EVENT, renderSoon);
  const unsubscribe = subscribe((change) => {
    if (change.kind === 'app' || change.kind === 'apps' || change.kind === 'deleted') renderSoon();
    if (change.kind === 'apps') void refreshRates();
    else if (change.kind === 'app' && onScreen.has(change.name)) refreshRate(change.name);
  });
  renderAll();
  void refreshRates();
  const timer = setInterval(() => document.visibilityState === 'visible' && void refreshRates(), RATE_REFRESH_MS);
  return () => {
    unsubscribe();
    window.removeEventListener(USAGE_EVENT, renderSoon);
    clearInterval(timer);
    if (frame !== undefined) cancelAnimationFrame(frame);
    watcher.disconnect();
    unmountCertificates();
  };
}

/**
 * Makes `parent`'s children exactly `wanted`, in order, moving only what is out of
 * place: a card that did not change stays in the document, and keeps focus.
 */
function place(parent, wanted) {
  // Stale cards go first: left in place, each would push every card after it one step, a move apiece.
  const keep = new Set(wanted);
  for (const el of [...parent.children]) if (!keep.has(el)) el.remove();
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
