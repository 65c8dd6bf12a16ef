// The README is what users read: every config key, spec field, error code, CLI command and
// API route that exists must be named there, so adding one without a word for users fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFileSchema } from '../../src/config/config-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { berthAppSchema } from '../../src/spec/schema.js';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { apiRoutes } from '../../src/api/routes/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');

/** The yaml blocks of a README section, joined. */
function yamlBlocks(heading: string): string {
  const start = readme.indexOf(heading);
  assert.ok(start >= 0, `README has ${heading}`);
  const end = readme.indexOf('\n## ', start + heading.length);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

/** Keys written as `key:` at the start of a (possibly commented) line or inside a flow map. */
const keyed = (text: string, key: string) => new RegExp(`(^|[\\s{,#])${key}:`, 'm').test(text);

test('every gateway config key is in the README config example', () => {
  const blocks = yamlBlocks('## Running the gateway');
  // swarm has its own example under "Swarm".
  const missing = Object.keys(configFileSchema.shape).filter((k) => k !== 'swarm' && !keyed(blocks, k));
  assert.deepEqual(missing, []);
  assert.ok(keyed(yamlBlocks('## Swarm'), 'swarm'));
});

test('every spec field is in the README spec example', () => {
  const blocks = yamlBlocks('## Running the gateway');
  const missing = Object.keys(berthAppSchema.shape).filter((k) => !keyed(blocks, k));
  assert.deepEqual(missing, []);
});

/** Every key of a zod object schema, nested ones included, as [path, key]. */
function keysOf(schema: unknown, prefix = ''): Array<[string, string]> {
  let s = schema as { shape?: Record<string, unknown>; element?: unknown; _def?: { innerType?: unknown; in?: unknown; element?: unknown } } | undefined;
  while (s && !s.shape && (s._def?.innerType || s._def?.in)) s = (s._def.innerType ?? s._def.in) as typeof s;
  if (!s?.shape) return s?._def?.element ? keysOf(s._def.element, `${prefix}[].`) : [];
  return Object.entries(s.shape).flatMap(([k, v]): Array<[string, string]> => [[prefix + k, k], ...keysOf(v, `${prefix}${k}.`)]);
}

test('every nested config key and spec field appears in one of the README yaml examples', () => {
  const all = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
  assert.ok(keysOf(configFileSchema).length > 50 && keysOf(berthAppSchema).length > 50, 'the walk finds nested keys');
  const missing = [...keysOf(configFileSchema), ...keysOf(berthAppSchema)].filter(([, key]) => !keyed(all, key)).map(([path]) => path);
  assert.deepEqual(missing, []);
});

test('the README config and spec examples load as written', async (t) => {
  const [config, spec] = [...readme.slice(readme.indexOf('## Running the gateway')).matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(config && spec, 'the config example, then the spec example');
  const dir = mkdtempSync(join(tmpdir(), 'berth-readme-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'apps'));
  writeFileSync(join(dir, 'berth.yaml'), config);
  writeFileSync(join(dir, 'apps', 'hello.yaml'), spec);
  const loaded = await loadConfig(join(dir, 'berth.yaml'));
  assert.deepEqual(loaded.apps.map((a) => a.name), ['hello']);
  assert.equal(loaded.drainTimeoutMs, 30_000);
});

test('the README error table has every code with its status and exit code', () => {
  const rows = readme.split('\n').filter((l) => l.startsWith('| ') && /\| \d{3} \| \d \|/.test(l));
  const cells = rows.flatMap((row) => {
    const c = row.split('|').map((s) => s.trim());
    return [c.slice(1, 4), c.slice(4, 7)].filter((x) => x[0]);
  });
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    const cell = cells.find(([names]) => names!.split(/[ ,()]+/).includes(code));
    assert.ok(cell, `${code} is in the error table`);
    assert.deepEqual([Number(cell[1]), Number(cell[2])], [entry.status, entry.exit], code);
  }
});

test('every admin API route is named in the README', () => {
  const missing = apiRoutes
    .map((r) => r.path)
    .filter((path) => {
      if (readme.includes(path)) return false;
      // `/v1/apps/{name}/start|stop|…` names several routes at once.
      const slash = path.lastIndexOf('/');
      const head = path.slice(0, slash + 1);
      const tail = path.slice(slash + 1);
      return !new RegExp(`${head.replace(/[{}]/g, '\\$&')}[a-z|]*\\b${tail}\\b`).test(readme);
    });
  assert.deepEqual([...new Set(missing)], []);
});

test('every CLI command is named in the README', () => {
  const help = execFileSync(process.execPath, [resolve(root, 'bin/berth.js'), '--help'], { encoding: 'utf8' });
  const commands = [...help.matchAll(/^ {2}([a-z]+)(?:\|[a-z]+)?\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  assert.ok(commands.length > 10, `commands parsed from --help: ${commands.join(' ')}`);
  const missing = commands.filter((c) => !readme.includes(`berth ${c}`) && !readme.includes(`\`${c}`));
  assert.deepEqual(missing, []);
});
