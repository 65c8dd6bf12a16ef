// The dead-peer probes a lease connection's session gets: applied on a pooled connection
// before the pool's user runs anything, and without pg's warning about queued queries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { DEAD_PEER_PROBES, deadPeerBoundMs, deadPeerProbesSql, setDeadPeerProbes } from '../../src/cluster/gateways/dead-peer.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';

describe('dead-peer probes', () => {
  it('writes only whole numbers into its statement', () => {
    assert.match(deadPeerProbesSql({ idleS: 5, intervalS: 2, count: 3 }), /'tcp_keepalives_idle', '5'.*'tcp_user_timeout', '11000'/);
    for (const bad of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) assert.throws(() => deadPeerProbesSql({ ...DEAD_PEER_PROBES, idleS: bad }), RangeError);
  });

  it('sets them on each new pooled connection before its first query, without a warning', { skip: pgSkip() }, async () => {
    const db = await createTestDatabase();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => void setDeadPeerProbes(client));
    try {
      // Three connections at once, each asked at once, as the lease pool is during a burst of cold starts.
      const rows = await Promise.all(
        [0, 1, 2].map(async () => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const r = await client.query<{ idle: string; count: string; user_timeout: string }>(
              "SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_count') AS count, current_setting('tcp_user_timeout') AS user_timeout",
            );
            await client.query('ROLLBACK');
            return r.rows[0]!;
          } finally {
            client.release();
          }
        }),
      );
      // A Unix socket ignores keepalives (the setting reads 0 there); the test server is TCP on 127.0.0.1.
      for (const row of rows) assert.deepEqual(row, { idle: '5', count: '3', user_timeout: String(deadPeerBoundMs(DEAD_PEER_PROBES)) });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings.filter((w) => /pg@9|deprecated/i.test(w)), []);
    } finally {
      process.off('warning', onWarning);
      await pool.end();
      await db.drop();
    }
  });
});
