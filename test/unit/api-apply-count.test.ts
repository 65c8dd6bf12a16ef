// POST /v1/apps runs its apply on the event loop the proxy shares, at about a quarter of a
// millisecond per app: a 1 MiB body of 15,000 two-line apps held every proxied request for
// seconds and was answered with 18 MB. More than MAX_APPS_PER_REQUEST specs in one body are
// a 413 that changes nothing; as many as that still go through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_APPS_PER_REQUEST } from '../../src/api/body-limit.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

/** `count` minimal berth/v1 documents, one YAML text. */
function specs(count: number, prefix: string): string {
  return Array.from({ length: count }, (_, i) => `apiVersion: berth/v1\nname: ${prefix}${i}\nimage: fake/web:1\nport: 8080\n`).join('---\n');
}

describe('POST /v1/apps: how many apps one request applies', () => {
  let bed: FakeGatewayBed;
  let gateway: Gateway;
  before(async () => {
    bed = await FakeGatewayBed.create();
    gateway = await bed.start();
  });
  after(() => bed.dispose());

  const post = async (body: string, query = '') => {
    const res = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}/v1/apps${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bed.adminToken}`, 'content-type': 'application/yaml' },
      body,
    });
    return { status: res.status, json: (await res.json()) as { code?: string; detail?: string; results?: unknown[] } };
  };

  it('one more than the limit is a 413 payload_too_large that says how many, and changes nothing', async () => {
    const refused = await post(specs(MAX_APPS_PER_REQUEST + 1, 'x'));
    assert.equal(refused.status, 413, JSON.stringify(refused.json).slice(0, 300));
    assert.equal(refused.json.code, 'payload_too_large');
    assert.equal(refused.json.detail, `the request body holds ${MAX_APPS_PER_REQUEST + 1} app specs, more than ${MAX_APPS_PER_REQUEST} at a time; apply them in parts`);
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/x0')).status, 404, 'nothing stored');
    assert.equal(bed.runtime.calls.ensure, 0, 'nothing created in the engine');
  });

  it('as many as the limit go through', async () => {
    const accepted = await post(specs(MAX_APPS_PER_REQUEST, 'y'), '?dryRun=true');
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json).slice(0, 300));
    assert.equal(accepted.json.results?.length, MAX_APPS_PER_REQUEST);
  });
});
