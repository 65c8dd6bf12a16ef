/**
 * A container on the host network is dialled at the host's port. When another process
 * already answers there, berth's readiness probe took that process's answers for the
 * app's (while the app failed to bind): the start is now refused before the container runs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { RuntimeError } from '../../src/errors.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { HTTPD_IMAGE } from '../support/images.js';
import { appSpec } from '../support/spec-fixture.js';

const run = testRun();
const runtime = new DockerRuntime({ extraLabels: run.labels, appsNetwork: `berth-apps-test-${run.id}` });

describe('a host-network app whose port another process holds', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await cleanupByLabel(run.label);
  });

  it('is not started, and the refusal says why', { timeout: 60_000 }, async () => {
    // The squatter: a process on the host answering on the app's port before the app runs.
    const squatter = createServer((socket) => {
      socket.on('error', () => undefined); // berth only looks, then hangs up
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    servers.push(squatter);
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    const spec = appSpec(`hp-${run.id}-${randomBytes(2).toString('hex')}`, { port, security: { privileged: false, capAdd: [], hostNetwork: true, hostPid: false } }, HTTPD_IMAGE);
    const created = await runtime.ensure(spec, 0);
    await assert.rejects(runtime.start(created.id), (err: unknown) => {
      assert.ok(err instanceof RuntimeError, String(err));
      assert.match(err.message, new RegExp(`port ${port} there already answers before it runs: another process holds it`));
      return true;
    });
    const info = await testDocker().getContainer(created.id).inspect();
    assert.equal(info.State.Status, 'created', 'the container was never started');
    assert.equal(info.Config.Labels?.['berth.host-port'], String(port));
  });
});
