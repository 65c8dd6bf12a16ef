import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { NoOtherInstanceError, type BerthError } from '../../src/errors.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';

const req = { method: 'GET', headers: { accept: 'text/html' } } as unknown as IncomingMessage;

test('StaticUpstreams: a known app is always ready at its address, with no cookie, for requests and upgrades', () => {
  const s = new StaticUpstreams({ web: { host: '127.0.0.1', port: 8081 } });
  for (const options of [undefined, { upgrade: true }]) {
    const admission = s.admit('web', req, options);
    assert.equal(admission.kind, 'ready');
    if (admission.kind !== 'ready') return;
    assert.equal(admission.upstream.origin, 'http://127.0.0.1:8081');
    assert.equal(admission.upstream.instanceName, '127.0.0.1:8081');
    assert.equal(admission.setCookie, undefined);
  }
});

test('StaticUpstreams: the ready answer is one object per app, built once', () => {
  const s = new StaticUpstreams({ a: { host: '127.0.0.1', port: 1 }, b: { host: '127.0.0.1', port: 2 } });
  assert.equal(s.admit('a', req), s.admit('a', req));
  assert.notEqual(s.admit('a', req), s.admit('b', req));
});

test('StaticUpstreams: an unknown app fails with no_route', () => {
  const s = new StaticUpstreams({ web: { host: '127.0.0.1', port: 8081 } });
  const admission = s.admit('other', req);
  assert.equal(admission.kind, 'fail');
  assert.equal(admission.kind === 'fail' && (admission.error as BerthError).code, 'no_route');
  assert.equal(s.publicStatus('other'), undefined);
  assert.deepEqual(s.publicStatus('web'), { state: 'running', ready: true });
});

test('StaticUpstreams: a retry excluding the one address has nowhere to go; excluding another is ready', () => {
  const s = new StaticUpstreams({ web: { host: '127.0.0.1', port: 8081 } });
  const ready = s.admit('web', req);
  assert.ok(ready.kind === 'ready');
  const retry = s.admit('web', req, { exclude: ready.upstream.instanceId });
  assert.equal(retry.kind, 'fail');
  assert.ok(retry.kind === 'fail' && retry.error instanceof NoOtherInstanceError);
  assert.equal(s.admit('web', req, { exclude: 'someone-else' }).kind, 'ready');
});
