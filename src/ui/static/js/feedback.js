// Telling the user what happened: a toast to see, the same words in the aria-live region
// to hear, and a confirmation dialog for what cannot be undone.

import { fill, h } from './dom.js';

let clearTimer;

/** Reads `text` out to screen readers (polite: after what they are saying now). */
export function announce(text) {
  const region = document.getElementById('announcer');
  // Emptying first makes a repeated message be read again.
  region.textContent = '';
  clearTimeout(clearTimer);
  setTimeout(() => {
    region.textContent = text;
  }, 50);
  clearTimer = setTimeout(() => {
    region.textContent = '';
  }, 8000);
}

/** A short message at the bottom of the screen; kind 'ok' | 'error' | 'info'. */
export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: 'toast', dataset: { kind }, text });
  box.append(el);
  announce(text);
  setTimeout(() => el.remove(), kind === 'error' ? 9000 : 4500);
}

/**
 * Asks before a destructive action. Resolves to the values of the `extra` controls
 * (an object, truthy) when confirmed, or undefined when cancelled. Cancel has focus
 * first, so Enter alone never confirms.
 */
export function confirmDialog({ title, text, confirmLabel = 'Confirm', extra = [] }) {
  const dialog = document.getElementById('confirm-dialog');
  fill(document.getElementById('confirm-title'), title);
  fill(document.getElementById('confirm-text'), text);
  const extraBox = fill(document.getElementById('confirm-extra'), ...extra);
  fill(document.getElementById('confirm-ok'), confirmLabel);
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue !== 'confirm') return resolve(undefined);
        const values = {};
        for (const input of extraBox.querySelectorAll('input')) values[input.name] = input.type === 'checkbox' ? input.checked : input.value;
        resolve(values);
      },
      { once: true },
    );
    dialog.returnValue = '';
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/** A labelled checkbox for confirmDialog's `extra`. */
export function checkbox(name, label) {
  const id = `confirm-${name}`;
  return h('p', { class: 'check' }, h('input', { type: 'checkbox', id, name }), ' ', h('label', { for: id, text: label }));
}
