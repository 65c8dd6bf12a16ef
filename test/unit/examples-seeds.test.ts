// The seed examples (examples/seeds/) are what a user of each seed system tries first: each
// must parse as the form it is written in, with the routes the README promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCntSpawnerBody, parseSpecText } from '../../src/spec/parse.js';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples/seeds');
const read = (name: string) => readFileSync(resolve(dir, name), 'utf8');

test('the cntSpawner body (seed 000) maps onto a /session/minion-1/ app stopped after IDLE', () => {
  const spec = parseCntSpawnerBody(JSON.parse(read('minion.json')) as unknown, 'body');
  assert.deepEqual(spec.routes, [{ path: '/session/minion-1/', stripPrefix: false }]);
  assert.equal(spec.idleTimeoutMs, 60_000);
});

test('the SWS declaration (seed 003) is a host route with a volume', () => {
  const [spec] = parseSpecText(read('sws-service.yaml'), 'sws-service.yaml');
  assert.equal(spec?.name, 'sws-service');
  assert.deepEqual(spec?.routes, [{ host: 'sws.localhost', stripPrefix: false }]);
  assert.equal(spec?.volume, '/data');
});

test('the django_docker_engine session (seed 004) is routed by path and host, with its input and waiting page', () => {
  const [spec] = parseSpecText(read('django-session.yaml'), 'django-session.yaml');
  assert.deepEqual(spec?.routes.map((r) => r.path ?? r.host), ['/docker/basic-hello/', 'basic-hello.localhost']);
  assert.equal(spec?.input?.as, 'file');
  assert.equal(spec?.waiting, 'page');
  assert.equal(spec?.waitingPage?.title, 'Please wait');
});
