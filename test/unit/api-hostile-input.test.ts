// The admin API under careless or hostile input, against a whole gateway on the fake
// engine: every refusal is problem+json with the catalogue's status, and a refused
// apply leaves the store and the engine as they were.
//  - a body past the 1 MiB limit was a 400 bad_request; the catalogue's code is 413
//    payload_too_large, and a declared Content-Length that big is refused unread;
//  - a request Node's parser refuses (a head past its limit: a 60 KB token) got
//    Node's bare status line with no body, not problem+json;
//  - a body sent to an operation that takes none was ignored: DELETE with
//    {"purgeVolumes": true} deleted the app and kept its volume;
//  - a 401 had no WWW-Authenticate, which RFC 9110 requires of it.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MAX_BODY_BYTES, untakenBodyProblem } from '../../src/api/body.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { apiRoutes } from '../../src/api/routes/index.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { rawExchange } from '../support/raw-http.js';

interface Answer {
  status: number;
  type: string;
  json: { code?: string; status?: number; detail?: string };
}

/** POSTs `body` in chunks (no Content-Length unless `length` is given) and reads the answer. */
function post(port: number, token: string, chunks: Buffer[], length?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' };
    if (length !== undefined) headers['content-length'] = String(length);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/apps', agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), json: JSON.parse(text || '{}') }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('no answer in 20 s')));
    // The server answers, then drops the rest; a write after that may fail, which is not the point here.
    req.on('error', (err) => (req.destroyed && !req.writableFinished ? undefined : reject(err)));
    const write = (i: number): void => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      if (req.write(chunks[i])) write(i + 1);
      else req.once('drain', () => write(i + 1));
    };
    write(0);
  });
}

describe('admin API: hostile bodies and heads', () => {
  // One gateway for the file (each start costs a second on a busy machine); the tests run in order and clean up what they make.
  let bed: FakeGatewayBed;
  let gateway: Gateway;
  before(async () => {
    bed = await FakeGatewayBed.create();
    gateway = await bed.start();
  });
  after(() => bed.dispose());

  it('a body past the limit is a 413 payload_too_large, read or declared, and changes nothing', async () => {
    const port = gateway.adminAddress!.port;
    // A valid spec, padded past the limit with a comment: only its size is wrong.
    const spec = Buffer.from('apiVersion: berth/v1\nname: big\nimage: fake/web:1\nport: 8080\n# ');
    const padding = Buffer.alloc(64 * 1024, 'x');
    const chunks = [spec, ...Array.from({ length: Math.ceil(MAX_BODY_BYTES / padding.length) + 1 }, () => padding)];
    for (const [what, length] of [['streamed (chunked)', undefined], ['declared by Content-Length', chunks.reduce((n, c) => n + c.length, 0)]] as const) {
      const answer = await post(port, bed.adminToken, chunks, length);
      assert.equal(answer.status, 413, `${what}: ${JSON.stringify(answer.json)}`);
      assert.equal(answer.type, 'application/problem+json', what);
      assert.equal(answer.json.code, 'payload_too_large', what);
      assert.match(answer.json.detail ?? '', new RegExp(`larger than ${MAX_BODY_BYTES} bytes`), what);
    }
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/big')).status, 404, 'nothing stored');
    assert.equal((await bed.runtime.list()).length, 0, 'nothing created in the engine');
    assert.equal(bed.runtime.calls.ensure, 0);
    // The same spec within the limit goes through: it was the size that was refused.
    assert.equal((await post(port, bed.adminToken, [spec, Buffer.from('small\n')])).status, 200);
  });

  it("a head Node's parser refuses is answered problem+json, and the listener keeps serving", async () => {
    const port = gateway.adminAddress!.port;
    const cases: Array<[string, string, number]> = [
      ['a 60 KB token', `GET /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${'a'.repeat(60_000)}\r\n\r\n`, 431],
      ['a control character in the target', 'GET /v1/\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400],
      ['a header without a colon', 'GET /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nnocolon\r\n\r\n', 400],
    ];
    for (const [what, head, status] of cases) {
      const outcome = await rawExchange(port, [head], { timeoutMs: 10_000 });
      const answer = outcome.responses[0];
      assert.ok(answer, `${what}: no answer (${outcome.bytes.toString('latin1').slice(0, 200)})`);
      assert.equal(answer.status, status, what);
      assert.deepEqual(answer.headers['content-type'], ['application/problem+json'], what);
      const body = JSON.parse(answer.body.toString('utf8'));
      assert.equal(body.status, status, what);
      assert.equal(typeof body.code, 'string', what);
      assert.equal((await bed.api(gateway, 'GET', '/v1/health')).status, 200, `still serving after ${what}`);
    }
  });

  // Node's server refused it first, with a bare 400 and no body, before berth's own Host check.
  it('an HTTP/1.1 request without Host is a 400 problem+json naming the Host', async () => {
    const port = gateway.adminAddress!.port;
    const outcome = await rawExchange(port, ['GET /v1/health HTTP/1.1\r\n\r\n'], { timeoutMs: 10_000 });
    const answer = outcome.responses[0];
    assert.ok(answer, `no answer (${outcome.bytes.toString('latin1').slice(0, 200)})`);
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.headers['content-type'], ['application/problem+json']);
    const body = JSON.parse(answer.body.toString('utf8'));
    assert.equal(body.code, 'bad_request');
    assert.match(body.detail, /no Host header/);
    assert.equal((await bed.api(gateway, 'GET', '/v1/health')).status, 200, 'still serving');
  });

  // Node dropped a CONNECT without a word (the admin server had no 'connect' listener, as the proxy has).
  it('a CONNECT is a 405 problem+json with the API\'s methods in Allow', async () => {
    const port = gateway.adminAddress!.port;
    const outcome = await rawExchange(port, [`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`], { timeoutMs: 10_000 });
    const answer = outcome.responses[0];
    assert.ok(answer, `no answer (${outcome.bytes.toString('latin1').slice(0, 200)})`);
    assert.equal(answer.status, 405);
    assert.deepEqual(answer.headers['content-type'], ['application/problem+json']);
    assert.deepEqual(answer.headers['allow'], ['GET, POST, DELETE, HEAD']);
    assert.equal(JSON.parse(answer.body.toString('utf8')).code, 'method_not_allowed');
    assert.equal((await bed.api(gateway, 'GET', '/v1/health')).status, 200, 'still serving');
  });

  // A cntSpawner body's problems were named as fields of a document called "body" (`body.envs.IDLE`),
  // where POST /v1/apps names the request body (`request body: envs.IDLE`, the problem's path the field's).
  it('a cntSpawner body\'s problems are located in the request body, as an apply\'s are', async () => {
    const refused = await bed.api(gateway, 'POST', '/v1/', { name: 'minion-1', image: 'fake/x:1', port: 8080, envs: { IDLE: '1x' } });
    assert.equal(refused.status, 422, JSON.stringify(refused.json));
    const json = refused.json as { detail: string; problems: Array<{ path: string }> };
    assert.match(json.detail, /^request body: envs\.IDLE: /);
    assert.deepEqual(json.problems.map((p) => p.path), ['envs.IDLE']);
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/minion-1')).status, 404, 'nothing stored');
  });

  it('a body to an operation that takes none is a 400 naming its query parameters, and nothing is done', async () => {
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080 })).status, 200);
    const removal = await bed.api(gateway, 'DELETE', '/v1/apps/web', { purgeVolumes: true });
    assert.equal(removal.status, 400, JSON.stringify(removal.json));
    assert.equal(removal.json.detail, 'DELETE /v1/apps/{name} takes no request body; its options are query parameters (?purgeVolumes=)');
    const start = await bed.api(gateway, 'POST', '/v1/apps/web/start', { wait: false });
    assert.equal(start.status, 400);
    assert.equal(start.json.code, 'bad_request');
    const app = await bed.api(gateway, 'GET', '/v1/apps/web');
    assert.equal(app.status, 200, 'not deleted');
    assert.equal(app.json.state, 'stopped', 'not started');
    assert.equal(bed.runtime.calls.start, 0);
    // What clients send when they have nothing to say is taken.
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps/web/stop', {})).status, 200);
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/web')).status, 200);
  });

  it('untakenBodyProblem lets pass only what says nothing', () => {
    const remove = apiRoutes.find((r) => r.operationId === 'deleteApp')!;
    for (const quiet of ['', ' \r\n', '{}', '{ }\n', '\uFEFF{}']) assert.equal(untakenBodyProblem(Buffer.from(quiet), remove), undefined, JSON.stringify(quiet));
    for (const said of ['{"purgeVolumes":true}', 'purgeVolumes=true', '[]', 'null', '{}{}']) assert.match(untakenBodyProblem(Buffer.from(said), remove) ?? '', /takes no request body/, said);
  });

  it('the OpenAPI document lists these answers: 413 and 415 where a body is read, 429 everywhere', () => {
    const paths = openApiDocument(apiRoutes).paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    for (const route of apiRoutes) {
      const statuses = Object.keys(paths[route.path]![route.method.toLowerCase()]!.responses);
      assert.ok(statuses.includes('429'), `${route.method} ${route.path}: 429`);
      if (route.method !== 'GET') for (const status of ['413', '415']) assert.ok(statuses.includes(status), `${route.method} ${route.path}: ${status}`);
    }
  });

  // The document left out answers the API gives: 403 policy_denied of an apply or a cntSpawner
  // create, 502/504 of a start that failed, 421 of a Host the listener does not answer to, 500.
  it('the OpenAPI document lists the statuses these operations really answer', async () => {
    const paths = openApiDocument(apiRoutes).paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    const listed = (method: string, path: string) => Object.keys(paths[path]![method.toLowerCase()]!.responses);
    for (const route of apiRoutes) for (const status of ['421', '500']) assert.ok(listed(route.method, route.path).includes(status), `${route.method} ${route.path}: ${status}`);
    const denied = await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'denied', image: 'elsewhere/x:1', port: 8080 });
    assert.equal(denied.status, 403);
    assert.ok(listed('POST', '/v1/apps').includes('403'));
    const spawned = await bed.api(gateway, 'POST', '/v1/', { name: 'denied', image: 'elsewhere/x:1', port: 8080, labels: { 'traefik.http.routers.denied.rule': 'PathPrefix(`/session/denied/`)' } });
    assert.equal(spawned.status, 403, JSON.stringify(spawned.json));
    assert.ok(listed('POST', '/v1/').includes('403'));
    // A start the engine refuses: a 502 every time (a container that exits at once raced its own readiness check on a loaded machine).
    bed.runtime.behave('crashes', { startError: () => new Error('exec format error') });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'crashes', image: 'fake/x:1', port: 8080 })).status, 200);
    for (const action of ['start', 'restart']) {
      const failed = await bed.api(gateway, 'POST', `/v1/apps/crashes/${action}`);
      assert.equal(failed.status, 502, JSON.stringify(failed.json));
      assert.ok(listed('POST', `/v1/apps/{name}/${action}`).includes('502'), action);
      assert.ok(listed('POST', `/v1/apps/{name}/${action}`).includes('504'), `${action}: a start timeout`);
    }
    assert.ok(listed('POST', '/v1/apps/{name}/scale').includes('502'));
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/crashes')).status, 200);
  });

  it('every 401 names the Bearer scheme in WWW-Authenticate; a token in the query string is no token', async () => {
    const base = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const cases: Array<[string, string, Record<string, string>]> = [
      ['no token', '/v1/apps', {}],
      ['a wrong token', '/v1/apps', { authorization: 'Bearer wrong' }],
      ['another scheme', '/v1/apps', { authorization: `Basic ${Buffer.from(`x:${bed.adminToken}`).toString('base64')}` }],
      ['the token in the query string', `/v1/apps?token=${bed.adminToken}`, {}],
      ['the token as access_token', `/v1/apps?access_token=${bed.adminToken}`, {}],
    ];
    for (const [what, path, headers] of cases) {
      const res = await fetch(`${base}${path}`, { headers });
      assert.equal(res.status, 401, what);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="berth admin API"', what);
      assert.equal(((await res.json()) as { code: string }).code, 'unauthorized', what);
    }
  });
});
