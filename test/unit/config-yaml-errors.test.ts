// A config file that is not one well-formed YAML document is refused with one line saying
// where and what. The parser's own message went out whole: a code frame over several lines
// (printed by the CLI as literal `\n`s), and for an app spec given as the config (`berth serve
// --config examples/apps/hello.yaml`, two `---` documents) advice meant for the parser's caller,
// "please use YAML.parseAllDocuments()".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

async function configFile(t: { after(fn: () => unknown): void }, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-config-yaml-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'berth.yaml');
  await writeFile(file, text);
  return file;
}

async function refusal(file: string): Promise<string> {
  let message = '';
  await assert.rejects(loadConfig(file), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    message = err.message;
    return true;
  });
  return message;
}

test('an app spec file given as the config (several documents) is refused in one line that says what it looks like', async (t) => {
  const file = await configFile(t, 'apiVersion: berth/v1\nname: a\nimage: x/a:1\n---\napiVersion: berth/v1\nname: b\nimage: x/b:1\n');
  const message = await refusal(file);
  assert.ok(!message.includes('\n'), message);
  assert.doesNotMatch(message, /parseAllDocuments/);
  assert.equal(message, `config ${file}: more than one YAML document (the next begins at line 4, its \`---\`); a gateway config is one: is this an app spec? Specs go in the files or directories the config's apps: names`);
});

test('a YAML syntax error in the config is one line naming its line and column, without the code frame', async (t) => {
  const file = await configFile(t, 'listen: 127.0.0.1:8080\nadmin: [127.0.0.1:8081\napps: []\n');
  const message = await refusal(file);
  assert.ok(!message.includes('\n'), message);
  assert.match(message, new RegExp(`^config ${file.replace(/[.]/g, '\\.')}: YAML syntax error: .*line \\d+, column \\d+$`));
});
