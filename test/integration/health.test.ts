import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { timedGet } from '../support/http-requests.js';
import { hostCounts } from '../support/load-loop.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `hc${run.id}`;

describe('active health checks', () => {
  let h: GatewayHarness;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.writeApp(
      'hc.yaml',
      testAppYaml(app, 'scale: {min: 2, max: 2}\nbalance: round-robin\nhealth: {path: /healthz, interval: 300ms, timeout: 250ms, unhealthyThreshold: 2}\n'),
    );
    await h.start();
  });

  after(async () => {
    await h.dispose();
    await cleanupByLabel(run.label);
  });

  test('an instance failing its health checks leaves the rotation, is restarted, and comes back', { timeout: 60_000 }, async () => {
    await waitFor('two ready instances', () => h.gateway!.statuses().find((s) => s.name === app)?.readyInstances === 2, { timeoutMs: 20_000 });
    const containers = await testDocker().listContainers({ filters: { label: [`berth.app=${app}`, run.label] } });
    assert.equal(containers.length, 2);
    const sick = containers[0]!;
    const sickHost = sick.Id.slice(0, 12);
    const sickPort = sick.Ports.find((p) => p.PrivatePort === 8080 && p.IP === '127.0.0.1')!.PublicPort;
    const startedBefore = (await testDocker().getContainer(sick.Id).inspect()).State.StartedAt;

    // Make one instance fail its health checks, talking to it directly rather than through berth.
    assert.equal((await timedGet(sickPort, '/sick')).status, 200);

    // Out of rotation within a few check intervals: every request then goes to the healthy one.
    await waitFor(
      'the sick instance to leave the rotation',
      async () => {
        const counts = await hostCounts(h.port, appPath(app, '/echo'), 6);
        return !counts.has(sickHost);
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );

    // Restarted in place (a fresh process is healthy again) and back in rotation.
    await waitFor(
      'the container to be restarted',
      async () => (await testDocker().getContainer(sick.Id).inspect()).State.StartedAt !== startedBefore,
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    await waitFor(
      'the restarted instance to serve again',
      async () => (await hostCounts(h.port, appPath(app, '/echo'), 4)).has(sickHost),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    // The engine publishes a restarted container on a new ephemeral port: berth read it back.
    const now = await testDocker().getContainer(sick.Id).inspect();
    const newPort = Number(now.NetworkSettings.Ports['8080/tcp']?.find((b) => b.HostIp === '127.0.0.1')?.HostPort);
    assert.equal((await timedGet(newPort, '/healthz')).status, 200, 'healthy after its restart');
  });
});
