// An app's container output, following live: GET /v1/apps/{name}/logs?follow=true read
// as a stream. The engine ends a follow when the container stops; the view then waits
// for the app to run again (from the store's state events) and follows the new output.

import { ApiError, appPath, openStream, readLines } from './api.js';
import { fill, h } from './dom.js';
import { LineBatch } from './line-batch.js';
import { plainLogLine } from './log-text.js';
import { state, subscribe } from './store.js';

const TAIL = 200;
const MAX_LINES = 5000;
// An app may write a line without end (binary output, a progress bar without \n): the view shows its start.
const MAX_LINE_CHARS = 16 * 1024;

export function mountLogs(root, name) {
  const output = h('div', { id: 'log-output', class: 'log', role: 'log', 'aria-live': 'off', 'aria-label': `Output of ${name}`, tabindex: '0' });
  const status = h('p', { id: 'log-status', class: 'muted', role: 'status' });
  const follow = h('button', { type: 'button', 'aria-pressed': 'true', text: 'Following' });
  const wrap = h('button', { type: 'button', 'aria-pressed': 'true', text: 'Wrap lines' });
  const clear = h('button', { type: 'button', text: 'Clear' });
  let controller;
  let following = true;
  let connected = false;

  function setStatus(text) {
    status.textContent = text;
  }

  async function connect() {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    connected = true;
    setStatus('Connecting…');
    try {
      const res = await openStream(appPath(name, `/logs?follow=true&tail=${TAIL}`), { signal: mine.signal, accept: 'text/plain' });
      output.replaceChildren();
      setStatus(`Following the last ${TAIL} lines and new output.`);
      const batch = new LineBatch(MAX_LINES);
      let flush;
      for await (const line of readLines(res.body, mine.signal, { maxLineChars: MAX_LINE_CHARS })) {
        batch.push(line);
        // Lines arrive in bursts: draw them once per frame, not once per line.
        flush ??= requestAnimationFrame(() => {
          appendLines(batch.take());
          flush = undefined;
        });
      }
      if (flush !== undefined) cancelAnimationFrame(flush);
      if (batch.size) appendLines(batch.take());
      if (!mine.signal.aborted) setStatus('The container stopped; its new output shows here when the app runs again.');
    } catch (err) {
      if (mine.signal.aborted) return;
      setStatus(err instanceof ApiError && err.status === 404 ? `${err.message}.` : `Could not read the logs: ${err.message}`);
    } finally {
      if (controller === mine) connected = false;
    }
  }

  function appendLines({ lines, dropped }) {
    const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 24;
    if (dropped) output.append(h('div', { class: 'log-line muted', text: `… ${dropped} lines not shown (they came faster than the page drew them)` }));
    output.append(...lines.map((line) => h('div', { class: 'log-line', text: plainLogLine(line) })));
    while (output.childElementCount > MAX_LINES) output.firstElementChild.remove();
    if (atBottom) output.scrollTop = output.scrollHeight;
  }

  follow.addEventListener('click', () => {
    following = !following;
    follow.setAttribute('aria-pressed', String(following));
    follow.textContent = following ? 'Following' : 'Paused';
    if (following) void connect();
    else {
      controller?.abort();
      setStatus('Paused; press Following to continue.');
    }
  });
  wrap.addEventListener('click', () => {
    const on = wrap.getAttribute('aria-pressed') !== 'true';
    wrap.setAttribute('aria-pressed', String(on));
    output.classList.toggle('nowrap', !on);
  });
  clear.addEventListener('click', () => output.replaceChildren());

  const unsubscribe = subscribe((change) => {
    if (change.kind !== 'app' || change.name !== name || !following || connected) return;
    const now = state.apps.get(name)?.state;
    if (now === 'running' || now === 'starting') void connect();
  });

  fill(root, h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Log controls' }, follow, wrap, clear), status, output);
  void connect();
  return () => {
    unsubscribe();
    controller?.abort();
  };
}
