// What can be done to an app from the dashboard: the same API calls the CLI makes.

import { api, appPath } from './api.js';
import { h } from './dom.js';
import { checkbox, confirmDialog, toast } from './feedback.js';
import { loadApp } from './store.js';

const LIFECYCLE = [
  { action: 'start', label: 'Start', doing: 'Starting', done: 'is running' },
  { action: 'stop', label: 'Stop', doing: 'Stopping', done: 'is stopped' },
  { action: 'restart', label: 'Restart', doing: 'Restarting', done: 'restarted' },
];

/**
 * Runs one call with `button` showing it is busy; start and restart answer only once
 * the app is ready, which can take as long as its startTimeout.
 */
async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await work();
  } catch (err) {
    toast(err.message, 'error');
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * What the action bar is built from: the replica bounds of the spec (the scale form's
 * min and max) and where the app is declared (delete is refused for the config's).
 * The bar is rebuilt when this changes, not on every event, which would take focus
 * and a half-typed replica count away. Pure.
 */
export function actionBarKey(app) {
  const { min = 0, max = 1 } = app.spec?.scale ?? {};
  return JSON.stringify([app.name, app.source, min, max]);
}

export function actionBar(app, { onDeleted }) {
  const name = app.name;
  const lifecycle = LIFECYCLE.map(({ action, label, doing, done }) =>
    h('button', {
      type: 'button',
      dataset: { action },
      onclick: (e) =>
        busy(e.currentTarget, async () => {
          toast(`${doing} ${name}…`);
          await api(appPath(name, `/${action}`), { method: 'POST' });
          toast(`${name} ${done}`, 'ok');
          void loadApp(name);
        }),
      text: label,
    }),
  );

  const { min = 0, max = 1 } = app.spec?.scale ?? {};
  const replicasId = `replicas-${name}`;
  const replicas = h('input', { id: replicasId, name: 'replicas', type: 'number', inputmode: 'numeric', min: Math.max(1, min), max, step: 1, value: app.status?.replicas ?? Math.max(1, min), required: true });
  const scaleButton = h('button', { type: 'submit', text: 'Scale' });
  const scale = h(
    'form',
    {
      class: 'scale-form',
      onsubmit: (e) => {
        e.preventDefault();
        void busy(scaleButton, async () => {
          const count = Number(replicas.value);
          await api(appPath(name, '/scale'), { method: 'POST', body: { replicas: count } });
          toast(`${name} scaled to ${count} replica${count === 1 ? '' : 's'}`, 'ok');
          void loadApp(name);
        });
      },
    },
    h('label', { for: replicasId, text: 'Replicas' }),
    replicas,
    scaleButton,
    h('span', { class: 'muted hint', text: `${Math.max(1, min)}–${max}` }),
  );

  // The API refuses to delete what the config file declares; say so before anyone tries.
  const fromConfig = app.source === 'config';
  const remove = h('button', {
    type: 'button',
    class: 'button-danger',
    dataset: { action: 'delete' },
    text: 'Delete…',
    disabled: fromConfig,
    title: fromConfig ? "Declared in the gateway's config file: remove it there" : undefined,
    onclick: async (e) => {
      const button = e.currentTarget;
      const answer = await confirmDialog({
        title: `Delete ${name}?`,
        text: `Its containers are removed and its routes stop answering. Its volume is kept unless you tick the box. This cannot be undone from the dashboard.`,
        confirmLabel: `Delete ${name}`,
        extra: [checkbox('purgeVolumes', "Also remove the app's volume (its data)")],
      });
      if (!answer) return;
      await busy(button, async () => {
        await api(appPath(name, answer.purgeVolumes ? '?purgeVolumes=true' : ''), { method: 'DELETE' });
        toast(`${name} deleted`, 'ok');
        onDeleted?.();
      });
    },
  });

  return h('div', { class: 'actions', role: 'group', 'aria-label': `Actions for ${name}` }, ...lifecycle, scale, remove);
}
