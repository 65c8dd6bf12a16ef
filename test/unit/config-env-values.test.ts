// Values given from outside the config file, checked like the file's own. BERTH_STORE
// (or store:) with another scheme (mysql://, a misspelt postgress://) was taken as a
// relative SQLite path: the gateway ran on a private file named `mysql:/x` where a shared
// store was meant. BERTH_LOG_LEVEL=loud ended the start in pino's words, naming nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { logLevelProblem } from '../../src/log.js';
import { storeLocationProblem } from '../../src/store/store-location.js';

const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

test('a store location is a file path or a postgres URL; any other URL is refused without echoing it', () => {
  for (const ok of ['./data/berth.db', '/var/lib/berth/state.db', 'my data/ünïcode berth.db', 'postgres://u:p@db:5432/berth', 'postgresql://db/berth']) {
    assert.equal(storeLocationProblem(ok), undefined, ok);
  }
  for (const bad of ['mysql://u:secret@db/berth', 'postgress://db/berth', 'sqlite://./berth.db', 'postgres:/db/berth', 'pg://db']) {
    const problem = storeLocationProblem(bad);
    assert.match(problem ?? '', /is not a store berth knows: give a SQLite file path \(\.\/data\/berth\.db\) or a postgres:\/\/ URL/, bad);
    assert.doesNotMatch(problem!, /secret/);
  }
});

test('store: mysql://… in the file is refused naming store and its line; from BERTH_STORE naming the variable', async () => {
  const saved = process.env.BERTH_STORE;
  delete process.env.BERTH_STORE;
  try {
    await assert.rejects(buildConfig({ store: 'mysql://db/berth' }, tmpdir(), 'berth.yaml', () => 3), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^berth\.yaml: store: a mysql: URL is not a store berth knows: .* \(line 3\)$/);
      return true;
    });
    process.env.BERTH_STORE = 'postgress://db/berth';
    await assert.rejects(buildConfig({}, tmpdir()), /^ConfigError: config: BERTH_STORE \(which wins over store\): a postgress: URL is not a store berth knows/);
  } finally {
    if (saved === undefined) delete process.env.BERTH_STORE;
    else process.env.BERTH_STORE = saved;
  }
});

test('log levels: pino\'s and silent pass, anything else is named', () => {
  for (const ok of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) assert.equal(logLevelProblem(ok), undefined, ok);
  assert.equal(logLevelProblem('loud'), '"loud" is not a log level: fatal | error | warn | info | debug | trace | silent');
  assert.ok(logLevelProblem('INFO'));
  assert.ok(logLevelProblem('constructor'));
});

test('berth serve with BERTH_LOG_LEVEL=loud exits 2 with one line naming the variable, before reading its config', () => {
  const run = spawnSync(process.execPath, [BERTH_BIN, 'serve', '--config', '/nonexistent/berth.yaml'], {
    env: { ...process.env, BERTH_ADMIN_TOKEN: 'level-test-token-0123', BERTH_LOG_LEVEL: 'loud' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.equal(run.stderr, 'berth: BERTH_LOG_LEVEL "loud" is not a log level: fatal | error | warn | info | debug | trace | silent\n');
});
