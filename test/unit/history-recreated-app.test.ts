// An app deleted and created again under the same name (a spawner's per-user session, a
// preview recreated for a new commit) is a new app: its history starts at its creation,
// and does not show the requests the deleted app served as if it had served them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';
import { waitFor } from '../support/wait-for.js';
import { ownHistoryQuery } from '../../src/gateway/app-history.js';

const spec = (name: string, tag: string) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:${tag}`, port: 8080, readiness: { path: '/healthz' } });

describe('the history of an app created again under a deleted one\'s name', () => {
  it('shows the new app\'s requests only, also when asked for an older since', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const port = gateway.proxyAddress!.port;
    const paths = async (query = '') => ((await bed.api(gateway, 'GET', `/v1/apps/web/history${query}`)).json.items as Array<{ path: string }>).map((i) => i.path);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1'))).status, 200);
    for (const path of ['/session/web/old-a', '/session/web/old-b']) assert.equal((await httpGet(port, path)).status, 200);
    await waitFor('the old app\'s requests written', async () => (await paths()).length === 2, { timeoutMs: 5_000 });
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/web')).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '2'))).status, 200);
    assert.equal((await httpGet(port, '/session/web/new')).status, 200);
    await waitFor('the new app\'s request written', async () => (await paths()).includes('/session/web/new'), { timeoutMs: 5_000 });
    assert.deepEqual(await paths(), ['/session/web/new']);
    assert.deepEqual(await paths('?since=1d'), ['/session/web/new'], 'a since before the creation does not reach the old app');
  });
});

describe('ownHistoryQuery', () => {
  const created = new Date('2026-01-02T10:00:00Z');
  it('bounds a query without since, or with an earlier one, at the creation', () => {
    assert.deepEqual(ownHistoryQuery({ app: 'a', limit: 5 }, created), { app: 'a', limit: 5, since: created });
    assert.deepEqual(ownHistoryQuery({ app: 'a', since: new Date('2026-01-01T00:00:00Z') }, created), { app: 'a', since: created });
  });
  it('keeps a later since as asked', () => {
    const since = new Date('2026-01-03T00:00:00Z');
    assert.deepEqual(ownHistoryQuery({ app: 'a', since }, created), { app: 'a', since });
  });
});
