// A large config file is read as YAML on the parsing thread, as a large spec is: read on the
// event loop at a reload, it held every proxied request for as long as the YAML took. The
// answers stay the same: the same values, and refusals that name the field and its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/load-config.js';
import { INLINE_PARSE_BYTES } from '../../src/spec/parse-off-thread.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\n';
const app = (i: number, port = 8080) => `  - {apiVersion: berth/v1, name: app${i}, image: "fake/app:1", port: ${port}}\n`;

async function configFile(t: { after(fn: () => unknown): void }, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bigcfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'berth.yaml'), text);
  return join(dir, 'berth.yaml');
}

test('a config of many short flow-list items does not hold the event loop, and its refusal names the line', { timeout: 120_000 }, async (t) => {
  // 40 KiB of `1,`: on the event loop, seconds of YAML (three passes) with no request served meanwhile.
  const text = `${HEAD}apps: []\nnotAField: [${'1,'.repeat(20 * 1024)}1]\n`;
  const file = await configFile(t, text);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // The monitor's timer runs a while first: a stall in its very first interval is not sampled.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const refused = await loadConfig(file).then(() => undefined, (err: Error) => err);
  await new Promise((resolve) => setTimeout(resolve, 50));
  delay.disable();
  assert.match(refused?.message ?? '', /Unrecognized key: "notAField" \(line 7\)/);
  const worstMs = delay.max / 1e6;
  assert.ok(worstMs < 500, `the event loop stood still for ${Math.round(worstMs)} ms`);
});

test('a large valid config reads the same off the thread: every app, and a bad field deep in it named by its line', { timeout: 60_000 }, async (t) => {
  let apps = '';
  for (let i = 0; i < 300; i++) apps += app(i);
  const text = `${HEAD}apps:\n${apps}`;
  assert.ok(text.length > INLINE_PARSE_BYTES);
  const config = await loadConfig(await configFile(t, text));
  assert.equal(config.apps.length, 300);
  assert.equal(config.apps[299]!.name, 'app299');
  const bad = text.replace(app(250), app(250, 99999));
  await assert.rejects(loadConfig(await configFile(t, bad)), /apps\[250\]\.port: must be at most 65535 \(line 257\)/);
});
