import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';
import { stickyId } from '../../src/proxy/balancer/cookie.js';

/** Waits that a test does not follow are still settled somewhere: a rejection must not go unhandled. */
function kindOf(admission: ReturnType<ReturnType<typeof fakeActivator>['admit']>): string {
  if (admission.kind === 'wait') admission.ready.catch(() => undefined);
  return admission.kind;
}

function req(headers: Record<string, string> = {}, method = 'GET'): IncomingMessage {
  return { method, headers } as unknown as IncomingMessage;
}

test('admit: a ready app answers ready with a reused object, without a promise', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    const first = a.admit('web', req());
    const second = a.admit('web', req());
    assert.equal(first.kind, 'ready');
    assert.equal(first, second, 'the same object, nothing allocated');
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: a new sticky client keeps its own cookie during a cold start', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 100 });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { balance: 'cookie' })]);
    const [container] = await rt.list({ app: 'web' });
    const fresh = a.admit('web', req());
    const pinned = a.admit('web', req({ cookie: `berth_web=${stickyId(container!.id)}` }));
    assert.equal(fresh.kind, 'wait');
    assert.equal(pinned.kind, 'wait');
    const [newClient, oldClient] = await Promise.all([fresh.kind === 'wait' && fresh.ready, pinned.kind === 'wait' && pinned.ready]);
    assert.ok(newClient && oldClient);
    assert.match(newClient.setCookie ?? '', /^berth_web=/, 'the new client is told its instance');
    assert.equal(oldClient.setCookie, undefined, 'a pinned client needs no new cookie');
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: the waiting page policy (browser page, API hold, recent failure, unknown app)', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 200 });
  const a = fakeActivator(rt);
  const browser = { accept: 'text/html' };
  try {
    await a.reconcile([fakeSpec('web')]);
    assert.equal(a.admit('nope', req()).kind, 'fail');
    assert.equal(kindOf(a.admit('web', req({ accept: 'application/json' }))), 'wait', 'an API client is held');
    const page = a.admit('web', req(browser));
    assert.equal(page.kind, 'page', 'a browser gets the waiting page');
    await waitForState(a, 'web', 'running', 2_000);
    assert.equal(a.admit('web', req(browser)).kind, 'ready');
    await a.controller('web')!.stop('test', 100);
    rt.behave('web', { startError: () => new Error('exec format error') });
    assert.equal(a.admit('web', req(browser)).kind, 'page');
    await waitForState(a, 'web', 'failed');
    const failed = a.admit('web', req(browser));
    assert.equal(failed.kind, 'fail', 'a reload right after a failure shows it');
    assert.match(failed.kind === 'fail' ? failed.error.message : '', /exec format error/);
    assert.equal(kindOf(a.admit('web', req({}, 'POST'))), 'wait');
  } finally {
    a.close();
    await rt.close();
  }
});
