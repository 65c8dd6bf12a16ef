import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig } from '../../src/config/load-config.js';
import { ConfigError, SpecError } from '../../src/errors.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import type { AppSpec } from '../../src/spec/types.js';
import { validateAppSet } from '../../src/spec/validate-set.js';

function app(name: string, input?: Record<string, unknown>): AppSpec {
  return parseSpecObject({ apiVersion: 'berth/v1', name, image: 'berth-example/hello:latest', port: 8080, ...(input ? { input } : {}) });
}

describe('input size limit', () => {
  const big = { data: { blob: 'x'.repeat(100) } }; // {"blob":"xxx…"}: 111 bytes

  it('accepts input up to the limit, and any size without a limit', () => {
    const json = app('a', big).input!.json;
    assert.equal(Buffer.byteLength(json), 111);
    assert.doesNotThrow(() => validateAppSet([app('a', big)], undefined, { inputBytes: 111 }));
    assert.doesNotThrow(() => validateAppSet([app('a', big)]));
    assert.doesNotThrow(() => validateAppSet([app('a')], undefined, { inputBytes: 0 }));
  });

  it('refuses a bigger input at apps[i].input.data, saying the size and the limit', () => {
    try {
      validateAppSet([app('a'), app('b', big)], undefined, { inputBytes: 110 });
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof SpecError);
      assert.equal(err.problems.length, 1);
      assert.equal(err.problems[0]!.path, 'apps[1].input.data');
      assert.match(err.problems[0]!.message, /app "b": input is 111 bytes .* limit of 110 bytes \(limits\.inputBytes\)/);
    }
  });

  it('counts bytes, not characters', () => {
    const spec = app('a', { data: 'é'.repeat(10) }); // "ééé…": 2 quotes + 20 bytes
    assert.throws(() => validateAppSet([spec], undefined, { inputBytes: 21 }), SpecError);
    assert.doesNotThrow(() => validateAppSet([spec], undefined, { inputBytes: 22 }));
  });
});

describe('gateway config: limits, defaults.resources, inputBaseUrl', () => {
  it('defaults to 64 KiB of input, no default resources, no input base URL', async () => {
    const config = await buildConfig({}, '/tmp');
    assert.deepEqual(config.limits, { inputBytes: 65_536, requestHeaders: 100, concurrentStarts: 32, startSlotHoldMs: 10_000, concurrentIdleStops: 32 });
    assert.deepEqual(config.defaults.resources, {});
    assert.equal(config.inputBaseUrl, undefined);
  });

  it('reads defaults.resources with sizes as users write them', async () => {
    const config = await buildConfig({ defaults: { resources: { memory: '64m', cpus: 0.5, pids: 64 } } }, '/tmp');
    assert.deepEqual(config.defaults.resources, { memoryBytes: 64 * 2 ** 20, cpus: 0.5, pids: 64 });
    assert.equal(config.defaults.idleTimeoutMs, 300_000);
  });

  it('refuses a malformed or too small default memory, naming the field', async () => {
    await assert.rejects(buildConfig({ defaults: { resources: { memory: 'lots' } } }, '/tmp'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /defaults\.resources\.memory: "lots" is not a size/);
      return true;
    });
    await assert.rejects(buildConfig({ defaults: { resources: { memory: '1m' } } }, '/tmp'), /defaults\.resources\.memory: must be at least 6m/);
    await assert.rejects(buildConfig({ defaults: { resources: { cpus: 0 } } }, '/tmp'), ConfigError);
  });

  it('reads policy.maxResources; defaults.resources above it are refused naming the field, built-in defaults above it become the bound', async () => {
    const config = await buildConfig({ policy: { maxResources: { memory: '256m', cpus: 2, pids: 4096 } } }, '/tmp');
    assert.deepEqual(config.policy.maxResources, { memoryBytes: 256 * 2 ** 20, cpus: 2, pids: 4096 });
    // The built-in 512m is above the bound; the built-in 512 PIDs is within it; no CPU cap is added (none is built in).
    assert.deepEqual(config.defaults.resources, { memoryBytes: 256 * 2 ** 20 });
    await assert.rejects(buildConfig({ defaults: { resources: { memory: '1g', pids: 64 } }, policy: { maxResources: { memory: '512m', pids: 32 } } }, '/tmp'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /defaults\.resources\.memory: 1g is above policy\.maxResources\.memory \(512m\); defaults\.resources\.pids: 64 is above policy\.maxResources\.pids \(32\)/);
      return true;
    });
    await assert.rejects(buildConfig({ policy: { maxResources: { memory: '1m' } } }, '/tmp'), /policy\.maxResources\.memory: must be at least 6m/);
    const spec = { apiVersion: 'berth/v1', name: 'a', image: 'x/y', port: 80, resources: { memory: '1g' } };
    await assert.rejects(buildConfig({ policy: { maxResources: { memory: '512m' } }, apps: [spec] }, '/tmp'), /apps\[0\]\.resources\.memory: resources\.memory 1g of app "a" is above policy\.maxResources\.memory \(512m\)/);
  });

  it('applies limits.inputBytes to the config apps', async () => {
    const raw = { limits: { inputBytes: 10 }, apps: [{ apiVersion: 'berth/v1', name: 'a', image: 'x/y', port: 80, input: { data: 'more than ten bytes' } }] };
    await assert.rejects(buildConfig(raw, '/tmp'), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.equal(err.problems[0]!.path, 'apps[0].input.data');
      return true;
    });
  });

  it('reads limits.startSlotHold as a duration, and refuses one that is not, naming the field', async () => {
    assert.equal((await buildConfig({ limits: { startSlotHold: '2500ms' } }, '/tmp')).limits.startSlotHoldMs, 2_500);
    assert.equal((await buildConfig({ limits: { startSlotHold: 0 } }, '/tmp')).limits.startSlotHoldMs, 0);
    assert.equal((await buildConfig({ limits: { concurrentStarts: 4 } }, '/tmp')).limits.startSlotHoldMs, 10_000, 'the default beside another limit');
    await assert.rejects(buildConfig({ limits: { startSlotHold: '10' } }, '/tmp'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /limits\.startSlotHold: "10" is not a duration \(a unit is missing\)/);
      return true;
    });
  });

  it('takes an http(s) inputBaseUrl without its trailing slash', async () => {
    assert.equal((await buildConfig({ inputBaseUrl: 'http://172.17.0.1:8080/' }, '/tmp')).inputBaseUrl, 'http://172.17.0.1:8080');
    await assert.rejects(buildConfig({ inputBaseUrl: 'ftp://x' }, '/tmp'), /inputBaseUrl/);
  });
});
