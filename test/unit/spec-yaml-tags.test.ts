/**
 * YAML tags in specs. A local tag (`!secret`) was dropped with a warning no one
 * read, leaving the plain value: `A: !secret hunter2` became a plain env value,
 * shown by the API and the dashboard. A `!!binary` env value listed every method
 * of a byte buffer as an "unknown field" (a 3 kB answer). Both are one clear
 * problem now.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError, SpecError } from '../../src/errors.js';
import { parseSpecText } from '../../src/spec/parse.js';

const head = 'apiVersion: berth/v1\nname: web\nimage: berth-test/app:1\nport: 8080\n';

function problems(text: string): string[] {
  try {
    parseSpecText(text, 'web.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('YAML tags in a spec', () => {
  for (const [what, line, tag] of [
    ['a local tag on an env value', 'env: {A: !secret hunter2}\n', '!secret'],
    ['a local tag on a field', 'image: !env IMAGE\n', '!env'],
  ] as const) {
    it(`refuses ${what}, naming the tag and its line`, () => {
      const found = problems((line.startsWith('image') ? head.replace('image: berth-test/app:1\n', '') : head) + line);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, new RegExp(`^\\(document\\): YAML tag ${tag} is not supported at line \\d+, column \\d+: berth reads only YAML's standard tags`));
    });
  }

  for (const [what, value, described] of [
    ['!!binary', '!!binary aGVsbG8=', 'YAML !!binary data'],
    ['!!timestamp', '!!timestamp 2001-12-14', 'a YAML !!timestamp'],
    ['!!set', '!!set {a, b}', 'a YAML !!set'],
  ] as const) {
    it(`an env value made ${what} is one problem at the variable`, () => {
      const found = problems(`${head}env: {A: ${value}}\n`);
      assert.equal(found.length, 1, found.join('\n'));
      assert.ok(found[0]!.startsWith(`env.A: must be a string, number or boolean, or an object with one of secret, fromFile or fromEnv, not ${described}`), found[0]);
    });
  }

  it("takes the core schema's own tags", () => {
    const [spec] = parseSpecText(head + 'env: {A: !!str 5, B: !!int "7"}\n', 'web.yaml');
    assert.deepEqual(spec?.env, { A: '5', B: '7' });
  });
});

describe("YAML tags in the gateway's own config file", () => {
  it('refuses an unknown tag with its line, instead of dropping it and keeping the plain value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-config-tag-'));
    try {
      const file = join(dir, 'berth.yaml');
      await writeFile(file, 'listen: 127.0.0.1:8080\nacme:\n  email: !secret ops@example.com\napps: []\n');
      await assert.rejects(loadConfig(file), (err: unknown) => err instanceof ConfigError && /tag !secret is not supported at line 3/.test(err.message) && err.message.includes(file));
      await writeFile(file, 'listen: !!str 127.0.0.1:8080\napps: []\n');
      assert.equal((await loadConfig(file)).listen.port, 8080, "YAML's own tags still read");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
