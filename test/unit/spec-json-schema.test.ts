import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { appSpecJsonSchema } from '../../src/spec/json-schema.js';
import { berthAppSchema } from '../../src/spec/schema.js';

type Schema = Record<string, any>;

/**
 * Just enough of a JSON Schema (draft-07) validator for the keywords the generated
 * schema uses, so the tests can ask what an editor would say about a document.
 */
function errors(schema: Schema, value: unknown, path = ''): string[] {
  const out: string[] = [];
  const types: string[] = schema.type === undefined ? [] : [schema.type].flat();
  const typeOf = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v);
  if (types.length > 0 && !types.some((t) => t === typeOf(value) || (t === 'number' && typeOf(value) === 'integer'))) {
    return [`${path}: not ${types.join('|')}`];
  }
  if ('const' in schema && value !== schema.const) out.push(`${path}: not const`);
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: not in enum`);
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${path}: pattern`);
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) out.push(`${path}: minimum`);
  if (typeof value === 'number' && schema.maximum !== undefined && value > schema.maximum) out.push(`${path}: maximum`);
  if (typeof value === 'number' && schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) out.push(`${path}: exclusiveMinimum`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push(`${path}: minItems`);
    value.forEach((item, i) => schema.items && out.push(...errors(schema.items, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) out.push(`${path}.${key}: required`);
    for (const [key, item] of Object.entries(object)) {
      if (schema.propertyNames) out.push(...errors(schema.propertyNames, key, `${path}.${key}(name)`));
      if (schema.properties?.[key]) out.push(...errors(schema.properties[key], item, `${path}.${key}`));
      else if (schema.additionalProperties === false) out.push(`${path}.${key}: additional property`);
      else if (typeof schema.additionalProperties === 'object') out.push(...errors(schema.additionalProperties, item, `${path}.${key}`));
    }
  }
  if (schema.anyOf && !schema.anyOf.some((option: Schema) => errors(option, value, path).length === 0)) out.push(`${path}: anyOf`);
  return out;
}

const schema = appSpecJsonSchema();
const example = {
  apiVersion: 'berth/v1',
  name: 'hello',
  image: 'berth-example/hello:latest',
  port: 8080,
  routes: [{ path: '/session/hello/', stripPrefix: false }, { host: 'hello.example.com' }],
  env: { GREETING: 'hi', N: 3 },
  volume: '/data',
  scale: { min: 0, max: 1, replicas: 1 },
  idleTimeout: '1m',
  startTimeout: '60s',
  readiness: { path: '/healthz' },
  resources: { memory: '256m', cpus: 0.5, pids: 100 },
  waiting: 'auto',
  network: 'traefiknet',
  mounts: [{ source: '/srv/x', target: '/x', readOnly: true }],
  labels: { 'com.example.team': 'web' },
};

describe('appSpecJsonSchema', () => {
  it('identifies itself for editors', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.$id, 'urn:berth:schema:app:v1');
    assert.equal(schema.title, 'berth app spec (berth/v1)');
    assert.match(String(schema.description), /on-demand container gateway/);
  });

  it('has every field of the zod schema, each with a description', () => {
    const properties = schema.properties as Record<string, Schema>;
    assert.deepEqual(Object.keys(properties), Object.keys(berthAppSchema.shape));
    for (const [name, property] of Object.entries(properties)) {
      assert.ok(typeof property.description === 'string' && property.description.length > 10, `${name} has no description`);
    }
    assert.deepEqual(schema.required, ['apiVersion', 'name', 'image']);
  });

  it('closes every object to unknown fields', () => {
    const open: string[] = [];
    const visit = (node: unknown, path: string) => {
      if (!node || typeof node !== 'object') return;
      const s = node as Schema;
      if (s.type === 'object' && s.properties && s.additionalProperties !== false) open.push(path);
      for (const [key, child] of Object.entries(s)) visit(child, `${path}/${key}`);
    };
    visit(schema, '#');
    assert.deepEqual(open, []);
    assert.equal(schema.additionalProperties, false);
  });

  it('accepts the example of the design document', () => {
    assert.deepEqual(errors(schema, example), []);
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown top-level field', { idletimeout: '1m' }, '.idletimeout: additional property'],
    ['an unknown route field', { routes: [{ path: '/a', strip: true }] }, '.routes[0].strip: additional property'],
    ['a route with neither host nor path', { routes: [{ stripPrefix: true }] }, '.routes[0]: anyOf'],
    ['a name that is not a DNS label', { name: 'Hello_' }, '.name: pattern'],
    ['a path without "/"', { routes: [{ path: 'x' }] }, '.routes[0].path: pattern'],
    ['a duration without unit', { idleTimeout: '90' }, '.idleTimeout: anyOf'],
    ['a size in words', { resources: { memory: 'lots' } }, '.resources.memory: anyOf'],
    ['a berth.* label', { labels: { 'berth.app': 'x' } }, '.labels.berth.app(name): pattern'],
    ['an unknown waiting mode', { waiting: 'spin' }, '.waiting: not in enum'],
    ['a port out of range', { port: 70000 }, '.port: maximum'],
    ['another apiVersion', { apiVersion: 'v1' }, '.apiVersion: not const'],
  ];
  for (const [title, change, expected] of refused) {
    it(`refuses ${title}`, () => assert.ok(errors(schema, { ...example, ...change }).includes(expected), errors(schema, { ...example, ...change }).join('; ')));
  }

  it('documents the defaults', () => {
    const properties = schema.properties as Record<string, Schema>;
    assert.equal(properties.startTimeout?.default, '60s');
    assert.equal(properties.waiting?.default, 'auto');
    assert.match(String(properties.routes?.description), /\/session\/<name>\//);
  });

  it('matches the schema file shipped in the package', () => {
    // The build writes schema/berth-app.schema.json; a stale copy would mislead editors.
    const shipped = JSON.parse(readFileSync(new URL('../../../schema/berth-app.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(shipped, schema);
  });
});
