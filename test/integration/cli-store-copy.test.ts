import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { berth, cliEnv } from '../support/berth-cli.js';
import { createTestDatabase, pgSkip, type TestDatabase } from '../support/pg-test-db.js';
import { appSpec } from '../support/spec-fixture.js';

const skip = pgSkip();
const T0 = 1_700_000_000_000;

/** Everything a gateway would show of a store, through the Store contract. */
async function snapshot(store: Store) {
  const apps = await store.listApps();
  return {
    apps,
    deleted: await store.listDeleted(),
    tokens: await store.listTokens(),
    storeId: await store.storeId(),
    secret: (await store.getOrCreateSecret('input')).toString('hex'),
    history: await Promise.all(['web', 'api', 'gone'].map(async (app) => (await store.queryRequests({ app, limit: 1000 })).items)),
    usage: await store.queryUsage({}),
    failures: await store.appFailures(),
  };
}

describe('berth store copy', { skip }, () => {
  let dir = '';
  let db: TestDatabase | undefined;
  const source = () => join(dir, 'data', 'berth.db');

  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'berth-copy-'));
    db = await createTestDatabase();
    const store = new SqliteStore({ path: source(), historyThread: false });
    await store.open();
    try {
      await store.applyApps([appSpec('web'), appSpec('api'), appSpec('gone')], 'config');
      await store.applyApps([appSpec('web', { port: 9000 })], 'api'); // revision 2, unsettled
      await store.setReplicas('api', 2);
      await store.deleteApp('gone', { purgeVolumes: true });
      await store.createToken({ id: 't1', name: 'ci', hash: 'f'.repeat(64) });
      await store.touchToken('t1', new Date(T0));
      await store.getOrCreateSecret('input');
      // More than one chunk of history, so progress is shown.
      const records = Array.from({ length: 12_000 }, (_, i) => ({ timeMs: T0 + i, app: i % 3 === 0 ? 'api' : 'web', method: 'GET', path: `/p/${i}`, status: 200, durationMs: 1, bytesIn: 0, bytesOut: 5, client: '127.0.0.1', waited: i === 7 }));
      await store.appendRequests(records);
      await store.addUsage([{ app: 'web', day: '2026-11-01', runningS: 60, pausedS: 0, idleS: 5, requests: 12 }]);
      await store.saveAppFailure('api', { reason: '3 failures in a row', lastError: 'the engine said no', publicError: 'app api failed to start', lastOutput: 'panic', failedAt: new Date(T0) });
    } finally {
      await store.close();
    }
  });

  after(async () => {
    await db?.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('moves the whole state, then refuses to copy into the now non-empty target', async () => {
    const env = cliEnv({});
    const run = await berth(['store', 'copy', '--from', source(), '--to', db!.url], env, { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /copied 2 app\(s\), 1 deleted app\(s\), 1 token\(s\), 12000 history record\(s\), 1 usage row\(s\) and the store identity [0-9a-f-]{36}/);
    assert.match(run.stderr, /history: 10000 of 12000 records copied/);
    if (new URL(db!.url).password !== '') assert.match(run.stderr, /warning: the password in --to is readable by every user of this host/);

    const from = new SqliteStore({ path: source(), historyThread: false });
    const to = new PostgresStore({ url: db!.url });
    await from.open();
    await to.open();
    try {
      const [a, b] = [await snapshot(from), await snapshot(to)];
      assert.deepEqual(b, a);
      assert.equal(b.apps.find((x) => x.name === 'web')!.revision, 2);
      assert.equal(b.apps.find((x) => x.name === 'api')!.replicas, 2);
      assert.deepEqual(await to.revertUnsettled(), ['web'], 'the unsettled update came along');
      // New history continues after the copied ids.
      await to.appendRequests([{ timeMs: T0 + 99_999, app: 'web', method: 'GET', path: '/new', status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0, client: 'x', waited: false }]);
      assert.equal((await to.queryRequests({ app: 'web', limit: 1 })).items[0]!.path, '/new');
    } finally {
      await from.close();
      await to.close();
    }

    // The target from BERTH_STORE this time: a password kept off the command line, where ps shows it.
    const again = await berth(['store', 'copy', '--from', source()], cliEnv({ BERTH_STORE: db!.url }), { timeoutMs: 60_000 });
    assert.equal(again.code, 4, again.stderr);
    const lines = again.stderr.trim().split('\n');
    assert.match(lines.at(-1)!, /^berth: target store postgres:\/\/postgres@[^ ]+ is not empty \(it holds 3 apps, 1 tokens, 12001 history records, 1 usage rows, 1 settings\)/);
    assert.doesNotMatch(again.stderr, /\n\s+at /, 'no stack');
  });

  it('refuses a source file that does not exist, creating nothing', async () => {
    const missing = join(dir, 'nope', 'berth.db');
    const run = await berth(['store', 'copy', '--from', missing, '--to', db!.url], cliEnv({}), { timeoutMs: 60_000 });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /does not exist; nothing to copy/);
    await assert.rejects(fs.stat(join(dir, 'nope')));
  });
});
