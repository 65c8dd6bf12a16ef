/**
 * Request bodies by Content-Type: a body that says it is another format (a
 * multipart form, XML, YAML to a JSON-only operation) is never read as a spec
 * or a command; it gets 415 naming what the operation takes, before anything
 * runs. One that says nothing of its format (none, or what `curl -d` and a bare
 * `fetch` put on it) is read as the operation's own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { contentTypeProblem, mediaTypeOf } from '../../src/api/content-type.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const SPEC = ['application/yaml', 'application/json'];
const JSON_ONLY = ['application/json'];

describe('contentTypeProblem', () => {
  // [Content-Type, what the operation reads, refused (a pattern of the message) or taken (undefined)]
  const table: Array<[string | undefined, string[] | undefined, RegExp | undefined]> = [
    ['application/json', SPEC, undefined],
    ['application/yaml', SPEC, undefined],
    ['Application/YAML; charset=UTF-8', SPEC, undefined],
    ['application/x-yaml', SPEC, undefined],
    ['text/yaml', SPEC, undefined],
    ['text/x-yaml', SPEC, undefined],
    ['application/json;charset="utf-8"', JSON_ONLY, undefined],
    // What curl -d and a bare fetch send, and none at all: read as the operation's own format.
    ['text/plain', SPEC, undefined],
    ['text/plain;charset=UTF-8', JSON_ONLY, undefined],
    ['application/x-www-form-urlencoded', SPEC, undefined],
    ['application/x-www-form-urlencoded', JSON_ONLY, undefined],
    [undefined, SPEC, undefined],
    ['', JSON_ONLY, undefined],
    ['text/plain; charset=iso-8859-1', SPEC, /charset iso-8859-1 is not taken/],
    // Another format named: refused.
    ['multipart/form-data; boundary=x', SPEC, /does not take multipart\/form-data: send the body as application\/yaml or application\/json/],
    ['application/xml', SPEC, /does not take application\/xml/],
    ['text/html', JSON_ONLY, /does not take text\/html: send the body as application\/json/],
    ['application/yaml', JSON_ONLY, /does not take application\/yaml/],
    ['json', JSON_ONLY, /^the Content-Type "json" is malformed/],
    ['application/json; charset=iso-8859-1', JSON_ONLY, /charset iso-8859-1 is not taken: bodies are UTF-8/],
    // Operations without a body: none, or JSON from clients that send {} anyway.
    [undefined, undefined, undefined],
    ['application/json', undefined, undefined],
    ['text/plain', undefined, undefined],
    ['application/x-www-form-urlencoded', undefined, undefined],
    ['multipart/form-data; boundary=----x', undefined, /takes no body.*multipart\/form-data: send no body, or application\/json/],
  ];
  for (const [header, accepted, refused] of table) {
    it(`${JSON.stringify(header)} to an operation reading ${accepted?.join(', ') ?? 'nothing'}: ${refused ? 'refused' : 'taken'}`, () => {
      const problem = contentTypeProblem(header, accepted);
      if (refused) assert.match(problem ?? '(taken)', refused);
      else assert.equal(problem, undefined);
    });
  }

  it('reads the media type and its charset', () => {
    assert.deepEqual(mediaTypeOf(' Text/Plain ; Charset="UTF-8" '), { type: 'text/plain', charset: 'utf-8' });
    assert.equal(mediaTypeOf('nonsense'), undefined);
    assert.equal(mediaTypeOf('a/b/c'), undefined);
  });
});

describe('the admin API and Content-Type', () => {
  it('answers 415 to a spec, a scale and a token that name another format, and changes nothing; reads unlabelled bodies as their own', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const base = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const call = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
      const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${bed.adminToken}`, ...headers }, body });
      return { status: res.status, type: res.headers.get('content-type'), json: JSON.parse((await res.text()) || 'null') };
    };
    const yaml = 'apiVersion: berth/v1\nname: web\nimage: fake/web:1\nport: 8080\nscale: {min: 1, max: 3}\n';
    for (const type of ['multipart/form-data; boundary=x', 'application/xml', 'text/html']) {
      const refused = await call('POST', '/v1/apps', { 'content-type': type }, yaml);
      assert.equal(refused.status, 415, type);
      assert.match(refused.type ?? '', /application\/problem\+json/);
      assert.equal(refused.json.code, 'unsupported_media_type');
      assert.match(refused.json.detail, /application\/yaml or application\/json/);
    }
    assert.equal((await call('GET', '/v1/apps/web', {})).status, 404, 'no spec was applied');
    const scale = await call('POST', '/v1/apps/web/scale', { 'content-type': 'application/yaml' }, 'replicas: 3');
    assert.equal(scale.status, 415, 'YAML to a JSON-only operation');
    const token = await call('POST', '/v1/tokens', { 'content-type': 'multipart/form-data; boundary=x' }, '{"name": "formed"}');
    assert.equal(token.status, 415);
    assert.ok(!(await call('GET', '/v1/tokens', {})).json.tokens.some((tk: { name: string }) => tk.name === 'formed'), 'no token made');

    // fetch sends a string body as text/plain unless told; a Blob without a type goes with none at all; curl -d as a form.
    assert.equal((await fetch(base + '/v1/apps', { method: 'POST', headers: { authorization: `Bearer ${bed.adminToken}` }, body: new Blob([yaml]) })).status, 200);
    assert.equal((await call('POST', '/v1/apps', { 'content-type': 'text/plain' }, yaml)).json.results[0].action, 'unchanged');
    assert.equal((await call('POST', '/v1/apps', { 'content-type': 'text/yaml; charset=utf-8' }, yaml)).json.results[0].action, 'unchanged');
    assert.equal((await call('POST', '/v1/apps/web/scale', { 'content-type': 'application/x-www-form-urlencoded' }, '{"replicas": 2}')).status, 200);
    assert.equal((await call('GET', '/v1/apps/web', {})).json.status.replicas, 2, 'scaled');
    assert.equal((await call('POST', '/v1/apps/web/stop', { 'content-type': 'application/x-www-form-urlencoded' }, '')).status, 200);
  });

  it('a scale with no or a wrong replicas says which, and what was sent', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const base = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const scale = async (body: string) => {
      const res = await fetch(`${base}/v1/apps/web/scale`, { method: 'POST', headers: { authorization: `Bearer ${bed.adminToken}`, 'content-type': 'application/json' }, body });
      return { status: res.status, detail: ((await res.json()) as { detail: string }).detail };
    };
    assert.deepEqual(await scale('{}'), { status: 400, detail: 'replicas: required, a whole number' });
    assert.deepEqual(await scale('{"replicas": 1e400}'), { status: 400, detail: 'replicas: must be a whole number, not Infinity' });
    assert.deepEqual(await scale('{"replicas": 1.5}'), { status: 400, detail: 'replicas: must be a whole number, not 1.5' });
    assert.deepEqual(await scale('{"replicas": "3"}'), { status: 400, detail: 'replicas: must be a whole number, not "3"' });
    assert.deepEqual(await scale('{"replicas": null}'), { status: 400, detail: 'replicas: must be a whole number, not null' });
  });

  it('answers 415 to a body in a content coding (gzip, br) and applies nothing: it was read as plain text', async (t) => {
    // A spec sent compressed was read byte for byte: gzip came back as "binary, not YAML", and a body
    // labelled gzip but sent plain was applied, whatever a proxy between would have made of it.
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const base = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const yaml = 'apiVersion: berth/v1\nname: web\nimage: fake/web:1\nport: 8080\n';
    const post = (encoding: string, body: string | Blob) =>
      fetch(base + '/v1/apps', { method: 'POST', headers: { authorization: `Bearer ${bed.adminToken}`, 'content-type': 'application/yaml', 'content-encoding': encoding }, body });
    for (const [encoding, body] of [['gzip', new Blob([gzipSync(yaml)])], ['br', yaml], ['identity, gzip', yaml]] as const) {
      const res = await post(encoding, body);
      const problem = (await res.json()) as { code: string; detail: string };
      assert.equal(res.status, 415, encoding);
      assert.equal(problem.code, 'unsupported_media_type');
      assert.match(problem.detail, /Content-Encoding .* is not taken: send the body uncompressed/);
    }
    const get = await fetch(base + '/v1/apps/web', { headers: { authorization: `Bearer ${bed.adminToken}` } });
    assert.equal(get.status, 404, 'no spec was applied');
    assert.equal((await post('identity', yaml)).status, 200, 'identity is no coding at all');
  });

  it('answers 400 to a repeated Authorization or Content-Type header', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const base = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const { request } = await import('node:http');
    const status = (rawHeaders: string[]) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: gateway.adminAddress!.port, method: 'GET', path: '/v1/apps', headers: ['host', '127.0.0.1', ...rawHeaders] }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status(['authorization', `Bearer ${bed.adminToken}`]), 200);
    assert.equal(await status(['authorization', `Bearer ${bed.adminToken}`, 'authorization', 'Bearer other']), 400);
    assert.equal(await status(['authorization', `Bearer ${bed.adminToken}`, 'content-type', 'application/json', 'content-type', 'text/plain']), 400);
  });
});
