/**
 * JSON bodies of the admin API are strict like specs: a field the operation does
 * not know is refused, not ignored. `POST /v1/tokens {"name": "ci", "scopes":
 * ["read"]}` made a full admin token while its author believed it read-only.
 * A key given twice is refused too (JSON.parse kept the last one without a word, so
 * `{"replicas": 1, "replicas": 50}` scaled to 50, where a spec body is refused), and a
 * leading byte order mark is skipped as a spec body's is (it was "not valid JSON").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duplicateJsonKey, jsonObjectBody, parseJsonBody } from '../../src/api/body.js';
import type { ApiContext, RouteDef } from '../../src/api/route-def.js';
import { apiRoutes } from '../../src/api/routes/index.js';
import { BadRequestError } from '../../src/errors.js';

const route = (id: string): RouteDef => apiRoutes.find((r) => r.operationId === id)!;

describe('jsonObjectBody', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['a list', '[]', /^the request body must be a JSON object like \{"name": …\}, not a list$/],
    ['a string', '"ci"', /^the request body must be a JSON object like \{"name": …\}, not a string$/],
    ['null', 'null', /^the request body must be a JSON object like \{"name": …\}, not null$/],
    ['an unknown field', '{"name": "ci", "scopes": ["read"]}', /^scopes: unknown field \(this operation takes: name\)$/],
  ];
  for (const [what, text, expected] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => jsonObjectBody(Buffer.from(text), ['name']), (err: unknown) => err instanceof BadRequestError && expected.test(err.message));
    });
  }
  it('refuses a misspelt field, naming the one meant', () => {
    assert.throws(() => jsonObjectBody(Buffer.from('{"replica": 2}'), ['replicas']), (err: unknown) => err instanceof BadRequestError && err.message === 'replica: unknown field (did you mean "replicas"?)');
  });
  it('takes an object of known fields', () => assert.deepEqual(jsonObjectBody(Buffer.from('{"name": "ci"}'), ['name']), { name: 'ci' }));
});

describe('the operations with a JSON body', () => {
  it('POST /v1/tokens with scopes makes no token and says tokens have none', async () => {
    let created = 0;
    const ctx = { body: async () => Buffer.from('{"name": "ci", "scopes": ["read"]}'), tokens: { create: async () => ++created } } as unknown as ApiContext;
    await assert.rejects(route('createToken').handle(ctx), (err: unknown) => err instanceof BadRequestError && /^scopes: unknown field .*every token is a full admin token/.test(err.message));
    assert.equal(created, 0);
  });

  it('POST /v1/apps/{name}/scale with a misspelt field scales nothing', async () => {
    let scaled = 0;
    const ctx = { params: { name: 'web' }, body: async () => Buffer.from('{"replicas": 2, "max": 5}'), gateway: { apps: { scale: async () => ++scaled } } } as unknown as ApiContext;
    await assert.rejects(route('scaleApp').handle(ctx), (err: unknown) => err instanceof BadRequestError && /^max: unknown field/.test(err.message));
    assert.equal(scaled, 0);
  });
});

describe('keys given twice and byte order marks', () => {
  it('finds a key given twice in any object, and only there', () => {
    const cases: Array<[string, string | undefined]> = [
      ['{"replicas":1,"replicas":50}', 'replicas'],
      ['{"a":{"b":1,"b":2}}', 'b'],
      ['[{"a":1},{"a":2}]', undefined],
      ['{"a":{"b":1},"b":2}', undefined],
      ['{"a":{"x":[1,{"y":2}]},"a":3}', 'a'],
      ['{"a":"\\"a\\":","b":["a","a"]}', undefined],
      ['{"\\u0061":1,"a":2}', 'a'],
      ['{"k\\\\":1,"k":2}', undefined],
      ['["a","a",{"a":1}]', undefined],
    ];
    for (const [text, twice] of cases) {
      JSON.parse(text);
      assert.equal(duplicateJsonKey(text), twice, text);
    }
  });

  it('POST /v1/apps/{name}/scale with replicas given twice scales nothing', async () => {
    let scaled = 0;
    const ctx = { params: { name: 'web' }, body: async () => Buffer.from('{"replicas": 1, "replicas": 50}'), gateway: { apps: { scale: async () => ++scaled } } } as unknown as ApiContext;
    await assert.rejects(route('scaleApp').handle(ctx), (err: unknown) => err instanceof BadRequestError && err.message === 'the request body gives the field "replicas" twice in one object; give it once');
    assert.equal(scaled, 0);
  });

  it('skips a leading byte order mark, as a spec body does', () => {
    assert.deepEqual(parseJsonBody(Buffer.from('\uFEFF{"replicas": 2}')), { replicas: 2 });
    assert.throws(() => parseJsonBody(Buffer.from('\uFEFF')), BadRequestError);
  });
});
