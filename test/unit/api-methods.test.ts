// Methods and paths at the admin API's edge: HEAD is answered on every GET
// operation (a stream's head too, which then ends), 405 names every method in
// Allow (HEAD with GET), and a path that misses by a trailing slash says which
// one was meant.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { FakeGatewayBed } from '../support/fake-gateway.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on its own connection; a HEAD's answer has no body to read. */
function send(port: number, method: string, path: string, token: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no complete answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe('admin API methods and paths', () => {
  it('HEAD answers every GET operation with its head only; streams end at once', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const port = gateway.adminAddress!.port;
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080 })).status, 200);
    const got = await send(port, 'GET', '/v1/apps/web', bed.adminToken);
    const head = await send(port, 'HEAD', '/v1/apps/web', bed.adminToken);
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-type'], 'application/json');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(got.body)), 'the length the GET has');
    const missing = await send(port, 'HEAD', '/v1/apps/nope', bed.adminToken);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '');
    for (const stream of ['/v1/events', '/v1/apps/web/events']) {
      const answer = await send(port, 'HEAD', stream, bed.adminToken);
      assert.equal(answer.status, 200, stream);
      assert.equal(answer.headers['content-type'], 'text/event-stream', stream);
      assert.equal(answer.body, '', stream);
    }
    assert.equal((await send(port, 'HEAD', '/v1/apps', 'wrong-token')).status, 401, 'a HEAD needs a token too');
  });

  // HEAD of an app's logs piped the engine's lines into an answer the server had already
  // ended: Node's write-after-end error had no listener and the gateway process exited.
  it('HEAD of an app with output in its logs answers the head, and the gateway lives on', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    bed.runtime.behave('web', { output: 'line one\nline two\n' });
    const gateway = await bed.start();
    const port = gateway.adminAddress!.port;
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080 })).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps/web/start')).status, 200);
    for (const path of ['/v1/apps/web/logs', '/v1/apps/web/logs?tail=1', '/v1/apps/web/logs?follow=true']) {
      const head = await send(port, 'HEAD', path, bed.adminToken);
      assert.equal(head.status, 200, path);
      assert.equal(head.headers['content-type'], 'text/plain; charset=utf-8', path);
      assert.equal(head.body, '', path);
    }
    assert.equal((await send(port, 'HEAD', '/v1/apps/nope/logs', bed.adminToken)).status, 404, 'refused as the GET is');
    // Give a late write its chance to land before asking again.
    await new Promise((resolve) => setImmediate(resolve));
    const got = await send(port, 'GET', '/v1/apps/web/logs', bed.adminToken);
    assert.equal(got.status, 200);
    assert.match(got.body, /line one\nline two/);
    assert.ok(bed.runtime.follows.every((f) => f.destroyed), 'the HEAD of a follow closed its engine stream');
  });

  it('405 lists every method of the path in Allow, HEAD with GET', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const port = gateway.adminAddress!.port;
    const table: Array<[string, string, string]> = [
      ['PUT', '/v1/apps', 'GET, POST, HEAD'],
      ['DELETE', '/v1/apps', 'GET, POST, HEAD'],
      ['PATCH', '/v1/apps/web', 'GET, DELETE, HEAD'],
      ['GET', '/v1/apps/web/stop', 'POST'],
      ['HEAD', '/v1/apps/web/scale', 'POST'],
      ['OPTIONS', '/v1/tokens', 'GET, POST, HEAD'],
    ];
    for (const [method, path, allow] of table) {
      const answer = await send(port, method, path, bed.adminToken);
      assert.equal(answer.status, 405, `${method} ${path}`);
      assert.equal(answer.headers.allow, allow, `${method} ${path}`);
      if (method !== 'HEAD') assert.equal(JSON.parse(answer.body).code, 'method_not_allowed');
    }
  });

  it('a path off by a trailing slash is a 404 naming the one meant; dot segments and look-alike names reach nothing', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const port = gateway.adminAddress!.port;
    const slash = await send(port, 'GET', '/v1/apps/', bed.adminToken);
    assert.equal(slash.status, 404);
    assert.match(JSON.parse(slash.body).detail, /no API operation at GET \/v1\/apps\/ \(did you mean \/v1\/apps\?\)/);
    assert.doesNotMatch(JSON.parse((await send(port, 'GET', '/v1/nothing', bed.adminToken)).body).detail, /did you mean/);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080 })).status, 200);
    // Nothing is normalised: "..", encoded or not, is a name like any other, and no app has it.
    for (const path of ['/v1/apps/%2e%2e', '/v1/apps/web/../../v1/tokens', '/v1/apps/w%D0%B5b', '/v1/apps/web%2F..%2F..%2Fv1%2Ftokens']) {
      const answer = await send(port, 'GET', path, bed.adminToken);
      assert.ok(answer.status === 404 || answer.status === 400, `${path}: ${answer.status} ${answer.body}`);
      assert.doesNotMatch(answer.body, /"tokens"/, path);
    }
    assert.equal((await send(port, 'GET', '//v1/apps', bed.adminToken)).status, 400);
  });
});
