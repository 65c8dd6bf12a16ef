// The idle timeout an app's page shows: the one in force (the spec's, else the gateway's
// default, which the API gives in status.idleTimeoutMs), as `berth get` says it, and
// whether the app is then stopped or paused.
import { test } from 'node:test';
import assert from 'node:assert/strict';

type App = { spec?: Record<string, unknown>; status?: Record<string, unknown> | null };
// The dashboard's own module, as the browser loads it (from dist/test/unit/ to src/).
const card = (await import(new URL('../../../src/ui/static/js/app-card.js', import.meta.url).href)) as { idleTimeoutText?: (app: App) => string };

function text(app: App): string {
  assert.equal(typeof card.idleTimeoutText, 'function', 'app-card.js says the idle timeout in force');
  return card.idleTimeoutText!(app);
}

test("idle timeout: the gateway's default in force is shown with its value, not only as a countdown", () => {
  assert.equal(text({ spec: { scale: { min: 0, max: 1 }, idleAction: 'stop' }, status: { state: 'stopped', idleTimeoutMs: 300_000 } }), "5 min (the gateway's default), then stopped");
});

test("idle timeout: the spec's own, and an app paused on idle says so", () => {
  assert.equal(text({ spec: { scale: { min: 0, max: 1 }, idleTimeoutMs: 90_000, idleAction: 'pause' }, status: { state: 'running', idleTimeoutMs: 90_000 } }), '1 min 30 s, then paused');
});

test('idle timeout: never for an app that keeps an instance, and the default named when no status says it', () => {
  assert.equal(text({ spec: { scale: { min: 1, max: 2 } }, status: { state: 'running' } }), 'never (scale.min ≥ 1)');
  assert.equal(text({ spec: { scale: { min: 0, max: 1 } }, status: null }), "the gateway's default");
});
