import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiRoutes } from '../../src/api/routes/index.js';
import { APP_IMAGE } from '../support/images.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';

const run = testRun();
const app = `api${run.id}`;
const spec = (greeting: string) => `apiVersion: berth/v1\nname: ${app}\nimage: ${APP_IMAGE}\nport: 8080\nreadiness: {path: /healthz}\nroutes:\n  - path: /session/${app}/\n    stripPrefix: true\nenv: {GREETING: ${greeting}}\nvolume: /data\n`;

/** A concrete path for every route template, to call each operation for real. */
function concrete(path: string): string {
  return path.replace('{name}', app).replace('{id}', 'nope');
}

describe('admin API', () => {
  let h: GatewayHarness;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.start();
  });

  after(async () => {
    await h.dispose();
    await cleanupByLabel(run.label);
  });

  test('every operation refuses a missing or wrong token with the same 401 body', async () => {
    for (const route of apiRoutes) {
      const path = concrete(route.path);
      const none = await h.api(route.method, path, { token: null });
      const wrong = await h.api(route.method, path, { token: 'berth_wrong' });
      assert.equal(none.status, 401, `${route.method} ${path} without token`);
      assert.equal(wrong.status, 401, `${route.method} ${path} with a wrong token`);
      assert.equal(none.headers.get('content-type'), 'application/problem+json');
      assert.equal(none.text, wrong.text, 'no hint whether a token was sent');
      assert.equal(none.json.code, 'unauthorized');
      // A success clears this address's failure count, so the throttle (tested below) does not slow this loop.
      assert.equal((await h.api('GET', '/v1/version')).status, 200);
    }
  });

  test('the OpenAPI document lists exactly the operations the server dispatches', async () => {
    const doc = await h.api('GET', '/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.json.openapi, '3.1.0');
    const documented = Object.entries(doc.json.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const served = apiRoutes.map((r) => `${r.method} ${r.path}`);
    assert.deepEqual([...documented].sort(), [...served].sort());
    // Every documented operation is routed: with a token none answers "no API operation".
    for (const route of apiRoutes) {
      if (route.produces === 'text/event-stream' || route.path.endsWith('/logs')) continue;
      const reply = await h.api(route.method, concrete(route.path), { body: route.requestBody ? '{}' : undefined });
      assert.notEqual(reply.json?.detail?.startsWith?.('no API operation'), true, `${route.method} ${route.path} is routed`);
    }
  });

  test('health and version answer', async () => {
    const health = await h.api('GET', '/v1/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.engine, 'ok');
    const version = await h.api('GET', '/v1/version');
    assert.match(version.json.version, /^\d+\.\d+\.\d+/);
  });

  test('unknown paths are 404 and wrong methods 405, as problem+json', async () => {
    const missing = await h.api('GET', '/v1/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 'not_found');
    const wrongMethod = await h.api('PUT', '/v1/apps');
    assert.equal(wrongMethod.status, 405);
    assert.match(wrongMethod.headers.get('allow') ?? '', /GET/);
    const unknownApp = await h.api('GET', '/v1/apps/nope');
    assert.equal(unknownApp.status, 404);
  });

  test('a bad spec is refused with 422 and every problem by field path, changing nothing', async () => {
    const bad = `apiVersion: berth/v1\nname: ${app}\nimage: ${APP_IMAGE}\nport: 99999\nroutes:\n  - path: nope\n`;
    const reply = await h.api('POST', '/v1/apps', { body: bad, contentType: 'application/yaml' });
    assert.equal(reply.status, 422);
    assert.equal(reply.json.code, 'spec_invalid');
    const paths = (reply.json.problems as Array<{ path: string }>).map((p) => p.path);
    assert.ok(paths.some((p) => p.endsWith('port')), paths.join());
    assert.ok(paths.some((p) => p.includes('routes[0].path')), paths.join());
    assert.equal((await h.api('GET', `/v1/apps/${app}`)).status, 404);
  });

  test('malformed JSON is a 400', async () => {
    const reply = await h.api('POST', '/v1/tokens', { body: '{nope' });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.code, 'bad_request');
  });

  test('apply creates, is idempotent, dry-runs a diff, and updates', async () => {
    const created = await h.api('POST', '/v1/apps', { body: spec('one'), contentType: 'application/yaml' });
    assert.equal(created.status, 200);
    assert.deepEqual(created.json.results.map((r: { action: string }) => r.action), ['created']);
    const again = await h.api('POST', '/v1/apps', { body: spec('one'), contentType: 'application/yaml' });
    assert.equal(again.json.results[0].action, 'unchanged');
    assert.equal(again.json.results[0].revision, 1);
    const dry = await h.api('POST', '/v1/apps?dryRun=true', { body: spec('two'), contentType: 'application/yaml' });
    assert.equal(dry.json.results[0].action, 'updated');
    assert.deepEqual(dry.json.results[0].changes, [{ path: 'env.GREETING', from: 'one', to: 'two' }]);
    assert.equal((await h.api('GET', `/v1/apps/${app}`)).json.revision, 1, 'dry run changed nothing');
    const updated = await h.api('POST', '/v1/apps', { body: spec('two'), contentType: 'application/yaml' });
    assert.equal(updated.json.results[0].revision, 2);
  });

  test('get shows spec, revision, state, routes with URLs', async () => {
    const reply = await h.api('GET', `/v1/apps/${app}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.json.name, app);
    assert.equal(reply.json.spec.env.GREETING, 'two');
    assert.equal(reply.json.routes[0].url, `http://127.0.0.1:${h.port}/session/${app}/`);
    const list = await h.api('GET', '/v1/apps');
    assert.ok(list.json.apps.some((a: { name: string }) => a.name === app));
  });

  test('start waits until ready; stop stops; the event stream tells both', async () => {
    const controller = new AbortController();
    const events = await fetch(`${h.adminUrl}/v1/apps/${app}/events`, { headers: { authorization: `Bearer ${h.adminToken}` }, signal: controller.signal });
    assert.equal(events.headers.get('content-type'), 'text/event-stream');
    const seen: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of events.body as unknown as AsyncIterable<Uint8Array>) {
        for (const m of decoder.decode(chunk).matchAll(/"state":"(\w+)"/g)) seen.push(m[1]!);
        if (seen.includes('stopped') && seen.includes('running')) break;
      }
    })().catch(() => undefined);
    const started = await h.api('POST', `/v1/apps/${app}/start`);
    assert.equal(started.status, 200);
    assert.equal(started.json.state, 'running');
    assert.equal((await h.get(`/session/${app}/env`)).status, 200);
    const stopped = await h.api('POST', `/v1/apps/${app}/stop`);
    assert.equal(stopped.json.state, 'stopped');
    await Promise.race([reading, new Promise((r) => setTimeout(r, 5_000))]);
    controller.abort();
    assert.ok(seen.includes('running') && seen.includes('stopped'), `events seen: ${seen.join()}`);
  });

  test('history records proxied requests', async () => {
    await h.get(`/session/${app}/status/404`);
    await h.get(`/session/${app}/ping?from=history`);
    let items: Array<{ path: string; status: number; waited: boolean; instance?: string }> = [];
    for (let i = 0; i < 20 && items.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 150));
      items = (await h.api('GET', `/v1/apps/${app}/history?since=1h`)).json.items;
    }
    const ping = items.find((r) => r.path === `/session/${app}/ping?from=history` && r.status === 200);
    assert.ok(ping, `the path keeps its query string: ${JSON.stringify(items)}`);
    const instances = (await h.api('GET', `/v1/apps/${app}`)).json.instances as Array<{ id: string; name: string }>;
    assert.ok(instances.some((i) => i.name === ping.instance), `the container is named, not its id: ${ping.instance}`);
    const only4xx = (await h.api('GET', `/v1/apps/${app}/history?status=4xx`)).json.items as Array<{ status: number }>;
    assert.ok(only4xx.length >= 1 && only4xx.every((r) => r.status >= 400 && r.status < 500));
    const bad = await h.api('GET', `/v1/apps/${app}/history?status=abc`);
    assert.equal(bad.status, 400);
  });

  test('logs returns the container output', async () => {
    const reply = await h.api('GET', `/v1/apps/${app}/logs?tail=50`);
    assert.equal(reply.status, 200);
    assert.ok(reply.text.length > 0);
  });

  test('tokens: created once, listed without secret, usable, revoked', async () => {
    const created = await h.api('POST', '/v1/tokens', { body: JSON.stringify({ name: `ci-${run.id}` }) });
    assert.equal(created.status, 201);
    const secret = created.json.token as string;
    assert.match(secret, /^berth_/);
    const listed = await h.api('GET', '/v1/tokens');
    assert.ok(!listed.text.includes(secret), 'the secret is never listed');
    assert.ok(listed.json.tokens.some((t: { name: string }) => t.name === `ci-${run.id}`));
    assert.equal((await h.api('GET', '/v1/version', { token: secret })).status, 200);
    assert.equal((await h.api('POST', '/v1/tokens', { body: JSON.stringify({ name: `ci-${run.id}` }) })).status, 409);
    assert.equal((await h.api('DELETE', `/v1/tokens/ci-${run.id}`)).status, 200);
    assert.equal((await h.api('GET', '/v1/version', { token: secret })).status, 401);
    assert.equal((await h.api('DELETE', '/v1/tokens/nope')).status, 404);
  });

  test('an app declared in the config cannot be changed through the API (409)', async () => {
    await h.writeApp('cfg.yaml', `apiVersion: berth/v1\nname: cfg${run.id}\nimage: ${APP_IMAGE}\nport: 8080\n`);
    await h.gateway!.reload();
    const reply = await h.api('DELETE', `/v1/apps/cfg${run.id}`);
    assert.equal(reply.status, 409);
    assert.equal(reply.json.code, 'conflict');
  });

  test('delete removes the container and keeps the volume unless purged', async () => {
    const reply = await h.api('DELETE', `/v1/apps/${app}`);
    assert.equal(reply.status, 200);
    const containers = await testDocker().listContainers({ all: true, filters: { label: [`berth.app=${app}`] } });
    assert.equal(containers.length, 0);
    const volumes = (await testDocker().listVolumes({ filters: { name: [`berth-${app}-data`] } })).Volumes ?? [];
    assert.equal(volumes.length, 1, 'the volume is kept');
    assert.equal((await h.api('GET', `/v1/apps/${app}`)).status, 404);
    assert.equal((await h.get(`/session/${app}/ping`)).status, 404, 'no longer routed');
  });

  test('the proxy listener never serves the admin API', async () => {
    const reply = await h.get('/v1/apps', { authorization: `Bearer ${h.adminToken}` });
    assert.equal(reply.status, 404);
    const byHost = await h.get('/v1/health', { host: `127.0.0.1:${h.gateway!.adminAddress!.port}`, authorization: `Bearer ${h.adminToken}` });
    assert.equal(byHost.status, 404);
  });

  test('repeated failed authentications from one address get 429 with Retry-After, never slowing a valid token', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const reply = await h.api('GET', '/v1/version', { token: 'berth_guess' });
      assert.ok(performance.now() - t0 < 1_000, `failure ${i} was answered at once`);
      statuses.push(reply.status);
      if (reply.status === 429) retryAfter = reply.headers.get('retry-after');
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    assert.match(retryAfter ?? '', /^[1-9][0-9]*$/);
    const t0 = performance.now();
    assert.equal((await h.api('GET', '/v1/version')).status, 200, 'the valid token is answered while the address is blocked');
    assert.ok(performance.now() - t0 < 1_000, 'and not delayed');
    // A success clears the penalty.
    assert.equal((await h.api('GET', '/v1/version')).status, 200);
  });
});
