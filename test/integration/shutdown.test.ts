import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { cliEnv, spawnBerth, type CliProcess } from '../support/berth-cli.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `shut${run.id}`;

describe('gateway shutdown on a real engine', () => {
  let h: GatewayHarness;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('drainTimeout: 2s\n');
    await h.writeApp('app.yaml', testAppYaml(app));
    await h.start();
  });

  after(async () => {
    await h.dispose();
    await cleanupByLabel(run.label);
  });

  test('close() sends an open WebSocket close code 1001 (Going Away) and finishes in bounded time', async () => {
    // The first handshake is held while the app cold-starts.
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}${appPath(app, '/ws')}`, { handshakeTimeout: 60_000 });
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
      ws.send('before shutdown');
      assert.equal(await echoed, 'before shutdown');
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
      const started = performance.now();
      await h.stop();
      const ms = performance.now() - started;
      const result = await closed;
      assert.equal(result.code, 1001);
      // No HTTP request was in flight, so nothing waits for drainTimeout: only the WebSocket grace.
      assert.ok(ms < 2_000 + 3_000, `close took ${Math.round(ms)} ms`);
    } finally {
      ws.terminate();
    }
  });
});

describe('berth serve on SIGTERM', () => {
  const served = `serve${run.id}`;
  let h: GatewayHarness;
  let serve: CliProcess | undefined;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('drainTimeout: 1s\n');
    await h.writeApp('app.yaml', testAppYaml(served));
  });

  after(async () => {
    serve?.child.kill('SIGKILL');
    await h.dispose();
    // `berth serve` labels its containers as berth's own, without this run's test labels.
    await cleanupByLabel(`berth.app=${served}`);
    await cleanupByLabel(run.label);
    // Its apps network too: made by the child, it has berth's labels but not this run's, and outlived every run.
    await testDocker().getNetwork(h.appsNetworkFor()).remove().catch(() => undefined);
  });

  test('closes an open WebSocket with 1001 and exits 0 within drainTimeout and its margin', async () => {
    serve = spawnBerth(['serve', '--config', h.configFile, '--no-watch'], cliEnv({ BERTH_ADMIN_TOKEN: h.adminToken, BERTH_LOG_LEVEL: 'info' }));
    const port = await waitFor('berth serve to listen', () => /berth is serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(serve!.stderr())?.[1], { timeoutMs: 30_000 });
    const ws = new WebSocket(`ws://127.0.0.1:${port}${appPath(served, '/ws')}`, { handshakeTimeout: 60_000 });
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      const started = performance.now();
      serve.child.kill('SIGTERM');
      assert.equal(await closed, 1001);
      const result = await serve.exited;
      const ms = performance.now() - started;
      assert.equal(result.code, 0, result.stderr);
      assert.ok(ms < 1_000 + 5_000, `exited after ${Math.round(ms)} ms`);
    } finally {
      ws.terminate();
    }
  });
});
