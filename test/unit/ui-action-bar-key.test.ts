// An app's page builds its action bar (start, stop, restart, the scale form, delete)
// from the spec's replica bounds and where the app is declared. It was built once, so
// an apply raising scale.max left the form refusing the new counts (its max was the
// old one) until a reload. actionBarKey says when the bar must be built again.
import { test } from 'node:test';
import assert from 'node:assert/strict';

type App = { name: string; source: string; spec?: { scale?: { min?: number; max?: number; replicas?: number } }; status?: Record<string, unknown> };
// The dashboard's own module, as the browser loads it (from dist/test/unit/ to src/).
const actions = (await import(new URL('../../../src/ui/static/js/actions.js', import.meta.url).href)) as { actionBarKey?: (app: App) => string };

function key(app: App): string {
  assert.equal(typeof actions.actionBarKey, 'function', 'actions.js says what its bar is built from');
  return actions.actionBarKey!(app);
}

const app: App = { name: 'web', source: 'api', spec: { scale: { min: 0, max: 3, replicas: 1 } }, status: { state: 'running', replicas: 1, inFlight: 0 } };

test('action bar: a new scale.max or scale.min (an apply) rebuilds it', () => {
  assert.notEqual(key({ ...app, spec: { scale: { min: 0, max: 5 } } }), key(app));
  assert.notEqual(key({ ...app, spec: { scale: { min: 1, max: 3 } } }), key(app));
});

test('action bar: an app now declared in the config file (delete refused) rebuilds it', () => {
  assert.notEqual(key({ ...app, source: 'config' }), key(app));
});

test('action bar: state events and a new replica count keep it (focus and a half-typed count stay)', () => {
  assert.equal(key({ ...app, status: { state: 'stopped', replicas: 3, inFlight: 2 } }), key(app));
  assert.equal(key({ ...app, spec: { scale: { min: 0, max: 3, replicas: 2 } } }), key(app));
});
