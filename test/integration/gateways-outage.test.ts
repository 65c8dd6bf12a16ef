// Two gateways on one PostgreSQL server that goes away for a few seconds (issue 12):
// running apps keep being served, a cold start still happens from what each gateway
// knew, applies are refused with 503 and a clear reason, and when the server is back
// the history written meanwhile lands in it and applies work again. The server is a
// throwaway of this test's own (scripts/ensure-postgres.sh), never the shared one.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { testRun } from '../support/docker-cleanup.js';
import { EngineEvents } from '../support/engine-events.js';
import { disposeGateways, GatewayProcess } from '../support/gateway-process.js';
import { timedGet } from '../support/http-requests.js';
import { testAppJson } from '../support/app-spec.js';
import { pgSkip } from '../support/pg-test-db.js';
import { sleep, waitFor } from '../support/wait-for.js';

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const skip = pgSkip();
const run = testRun();
const names = { warm: `go${run.id}-warm`, cold: `go${run.id}-cold`, late: `go${run.id}-late` };

function spec(name: string): Record<string, unknown> {
  return testAppJson(name, { 'berth-test': 'true', 'berth-test-run': run.id });
}

/** This test's own PostgreSQL: started by the project's script, stopped and started again by pg_ctl. */
class OwnServer {
  private constructor(
    readonly url: string,
    readonly dir: string,
  ) {}

  static async start(): Promise<OwnServer> {
    // An empty BERTH_TEST_PG_URL makes the script start a server rather than use the shared one.
    const { stdout } = await exec('bash', ['scripts/ensure-postgres.sh', 'start'], { cwd: REPO, env: { ...process.env, BERTH_TEST_PG_URL: '' } });
    const url = /BERTH_TEST_PG_URL=(\S+)/.exec(stdout)?.[1];
    const dir = /BERTH_TEST_PG_DIR=(\S+)/.exec(stdout)?.[1];
    if (!url || !dir) throw new Error(`ensure-postgres.sh printed no server: ${stdout}`);
    return new OwnServer(url, dir);
  }

  private pgCtl(args: string[]): Promise<unknown> {
    const bin = process.env.BERTH_PG_BIN ?? join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1)!, 'bin');
    const argv = [join(bin, 'pg_ctl'), '-D', join(this.dir, 'data'), ...args];
    return process.getuid?.() === 0 ? exec('runuser', ['-u', 'postgres', '--', ...argv]) : exec(argv[0]!, argv.slice(1));
  }

  stop(): Promise<unknown> {
    return this.pgCtl(['-m', 'fast', '-w', '-t', '30', 'stop']);
  }

  /** Started again on the same port and socket directory as ensure-postgres.sh started it. */
  startAgain(): Promise<unknown> {
    const port = new URL(this.url).port;
    return this.pgCtl(['-l', join(this.dir, 'server.log'), '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${this.dir} -c max_connections=200`, 'start']);
  }

  async remove(): Promise<void> {
    await exec('bash', ['scripts/ensure-postgres.sh', 'stop', this.dir], { cwd: REPO }).catch(() => undefined);
  }
}

describe('gateways while their PostgreSQL is down', { skip, timeout: 180_000 }, () => {
  let server: OwnServer | undefined;
  const gws: GatewayProcess[] = [];
  let events: EngineEvents | undefined;

  before(async () => {
    server = await OwnServer.start();
    for (const id of ['a', 'b']) gws.push(await GatewayProcess.start({ apps: {}, store: server.url, appsNetwork: 'none', env: { BERTH_GATEWAY_ID: `out-${id}-${run.id}` } }));
    events = await EngineEvents.open(`berth-test-run=${run.id}`);
  });

  after(async () => {
    events?.close();
    await disposeGateways(gws, Object.values(names), `berth-test-run=${run.id}`);
    await server?.remove();
  });

  test('serving goes on, applies get 503, and everything catches up when the database is back', async (t) => {
    const [a, b] = gws as [GatewayProcess, GatewayProcess];
    for (const name of [names.warm, names.cold]) {
      const applied = await a.api('POST', '/v1/apps', spec(name));
      assert.ok(applied.status === 200 || applied.status === 201, JSON.stringify(applied.json));
    }
    await waitFor('B routes both apps', async () => (await timedGet(b.proxyPort, `/s/${names.warm}/ping`, { timeoutMs: 30_000 })).status === 200, { timeoutMs: 20_000 });
    assert.equal((await timedGet(a.proxyPort, `/s/${names.warm}/ping`, { timeoutMs: 30_000 })).status, 200);

    await server!.stop();
    const downAt = performance.now();
    // Running apps: served by both gateways throughout.
    const during: number[] = [];
    for (let i = 0; i < 10; i++) {
      for (const gw of [a, b]) during.push((await timedGet(gw.proxyPort, `/s/${names.warm}/ping?outage=${i}`, { timeoutMs: 10_000 })).status);
      await sleep(100);
    }
    assert.deepEqual(during.filter((s) => s !== 200), [], 'every request to a running app was served');
    // A cold start from what the gateway knew: no lease to take, it goes ahead alone.
    const cold = await timedGet(b.proxyPort, `/s/${names.cold}/ping`, { timeoutMs: 60_000 });
    assert.equal(cold.status, 200, cold.body);
    assert.equal(await events!.settledCount(names.cold, 'start', 1), 1);
    // Desired state cannot change: 503 with a reason that says so.
    const refused = await b.api('POST', '/v1/apps', spec(names.late));
    assert.equal(refused.status, 503, JSON.stringify(refused.json));
    assert.equal(refused.json.code, 'store_unavailable');
    assert.match(String(refused.json.detail), /cannot be reached/);
    t.diagnostic(`the database was down for ${Math.round(performance.now() - downAt)} ms`);

    await server!.startAgain();
    const upAt = performance.now();
    // Applies work again once the pool reconnects, and the change reaches the other gateway.
    await waitFor('an apply accepted again', async () => {
      const applied = await b.api('POST', '/v1/apps', spec(names.late));
      return applied.status === 200 || applied.status === 201;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    t.diagnostic(`applies accepted again ${Math.round(performance.now() - upAt)} ms after the database was back`);
    await waitFor('A serves the app applied at B after the outage', async () => (await timedGet(a.proxyPort, `/s/${names.late}/ping`, { timeoutMs: 30_000 })).status === 200, { timeoutMs: 30_000 });
    // The history held in memory meanwhile is written, each record with the gateway that served it.
    const client = new pg.Client({ connectionString: server!.url });
    await client.connect();
    try {
      await waitFor('the outage requests in the history', async () => {
        const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM requests WHERE app = $1 AND path LIKE '%outage=%'", [names.warm]);
        return rows[0]!.n === 20;
      }, { timeoutMs: 20_000 });
      const { rows } = await client.query<{ gateway: string; n: number }>("SELECT gateway, count(*)::int AS n FROM requests WHERE app = $1 AND path LIKE '%outage=%' GROUP BY gateway ORDER BY gateway", [names.warm]);
      assert.deepEqual(rows, [{ gateway: `out-a-${run.id}`, n: 10 }, { gateway: `out-b-${run.id}`, n: 10 }]);
    } finally {
      await client.end();
    }
    // One leader again.
    await waitFor('a leader again', async () => (await a.api('GET', '/v1/gateways')).json?.leader !== null, { timeoutMs: 15_000 });
  });
});
