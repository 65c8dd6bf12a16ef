// Building DOM without innerHTML: every value from the API becomes a text node or an
// attribute, never markup, so an app name or a log line cannot inject script. (The CSP
// forbids inline script anyway; this keeps even harmless markup out.)

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * h('button', {class: 'x', onclick: fn, 'aria-label': 'Stop'}, 'Stop') → element.
 * Attributes: `class`, `text`, `on<event>` handlers, booleans (true sets, false omits),
 * `dataset: {}`; everything else with setAttribute. Children: nodes, strings, arrays,
 * and null/undefined/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces every child of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A <time> that the ticker keeps current: mode 'ago', 'until' or 'uptime'. */
export function liveTime(at, mode, fallback = '—') {
  if (!at) return h('span', { class: 'muted', text: fallback });
  const date = new Date(at);
  return h('time', { datetime: date.toISOString(), title: date.toLocaleString(), dataset: { rel: mode } }, relative(date, mode));
}

/** Refreshes every live <time> under `root`; called once a second. */
export function tick(root = document) {
  for (const el of root.querySelectorAll('time[data-rel]')) {
    const text = relative(new Date(el.getAttribute('datetime')), el.dataset.rel);
    if (el.textContent !== text) el.textContent = text;
  }
}

export function relative(date, mode, now = Date.now()) {
  const ms = date.getTime() - now;
  if (mode === 'until') return ms <= 0 ? 'any moment' : `in ${duration(ms)}`;
  if (mode === 'uptime') return duration(-ms);
  const ago = -ms;
  return ago < 1500 ? 'just now' : `${duration(ago)} ago`;
}

/** 950 ms, 12 s, 3 min 4 s, 2 h 5 min, 3 d 4 h. */
export function duration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const sec = Math.floor(ms / 1000);
  if (sec < 60) return `${sec} s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return sec % 60 ? `${min} min ${sec % 60} s` : `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return min % 60 ? `${hours} h ${min % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** A cold start's duration: 840 ms, 1.2 s, 14 s. */
export function startDuration(ms) {
  if (ms === undefined || ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return duration(ms);
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function clockTime(at) {
  const d = new Date(at);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/** The state badge; its text is the state itself, so colour is never the only cue. */
export function stateBadge(state) {
  return h('span', { class: 'badge', dataset: { state }, text: state });
}

export function shortId(id) {
  return id ? String(id).slice(0, 12) : '—';
}
