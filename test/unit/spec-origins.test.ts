import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../src/config/load-config.js';
import { SpecError } from '../../src/errors.js';
import { parseSpecObject, validateAppSet } from '../../src/spec/index.js';

const spec = (name: string, extra: Record<string, unknown> = {}) => parseSpecObject({ apiVersion: 'berth/v1', name, image: 'berth-test/app:latest', port: 8080, ...extra });

test('set-level problems name the file and the document, not an index in the whole gateway', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-origins-'));
  try {
    await mkdir(join(dir, 'apps'));
    await writeFile(join(dir, 'apps', 'a.yaml'), 'apiVersion: berth/v1\nname: a\nimage: berth-test/app:latest\nport: 8080\n');
    await writeFile(
      join(dir, 'apps', 'b.yaml'),
      'apiVersion: berth/v1\nname: b\nimage: berth-test/app:latest\nport: 8080\n---\napiVersion: berth/v1\nname: c\nimage: berth-test/app:latest\nport: 8080\ninput:\n  data: {text: "far more than ten bytes"}\n',
    );
    const raw = { limits: { inputBytes: 10 }, apps: ['apps', { apiVersion: 'berth/v1', name: 'a', image: 'berth-test/app:latest', port: 8080 }] };
    await assert.rejects(buildConfig(raw, dir), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      const paths = err.problems.map((p) => p.path).sort();
      assert.deepEqual(paths, ['apps/b.yaml, document 2: input.data', 'apps[1].name']);
      assert.match(err.problems.find((p) => p.path === 'apps[1].name')!.message, /also the name of apps\/a\.yaml/);
      assert.match(err.message, /apps\/b\.yaml, document 2: input\.data: app "c": input is \d+ bytes/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an apply\'s problems name the request body, and a clash names the stored app', () => {
  const stored = spec('web', { routes: [{ path: '/w/' }] });
  const body = [spec('svc'), spec('web2', { routes: [{ path: '/w/' }] })];
  assert.throws(
    () => validateAppSet([stored, ...body], undefined, { inputBytes: 1000 }, undefined, undefined, ['stored app "web"', 'request body, document 1', 'request body, document 2']),
    (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.ok(err.problems.every((p) => p.path.startsWith('request body, document 2: routes[0]') && /as app "web" \(its routes\[0\]\)/.test(p.message)), JSON.stringify(err.problems));
      return true;
    },
  );
  assert.throws(
    () => validateAppSet([spec('a', { input: { data: { text: 'more than ten bytes' } } })], undefined, { inputBytes: 10 }, undefined, undefined, ['request body']),
    (err: unknown) => err instanceof SpecError && err.problems[0]!.path === 'request body: input.data' && !/apps\[/.test(err.message),
  );
});

test('a parse problem of a config file names the file and the document', async () => {
  const { inFile } = await import('../../src/config/load-config.js');
  assert.equal(inFile('apps/web.yaml', '[1].routes[0].path'), 'apps/web.yaml, document 2: routes[0].path');
  assert.equal(inFile('apps/web.yaml', '[0]'), 'apps/web.yaml, document 1');
  assert.equal(inFile('apps/web.yaml', '[2][0].port'), 'apps/web.yaml, document 3: [0].port');
  assert.equal(inFile('apps/web.yaml', 'port'), 'apps/web.yaml: port');
  const dir = await mkdtemp(join(tmpdir(), 'berth-origins-'));
  try {
    await writeFile(join(dir, 'web.yaml'), 'apiVersion: berth/v1\nname: a\nimage: berth-test/app:latest\nport: 8080\n---\napiVersion: berth/v1\nname: b\nimage: berth-test/app:latest\nport: 8080\nroutes: [{path: nope}]\n');
    await assert.rejects(buildConfig({ apps: ['web.yaml'] }, dir), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.match(err.message, /^web\.yaml, document 2: routes\[0\]\.path: /);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
