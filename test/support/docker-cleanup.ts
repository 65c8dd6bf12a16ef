import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { createDockerClient, resolveDockerEndpoint } from '../../src/runtime/docker/client.js';

let client: Docker | undefined;

/** A dockerode client on the engine the tests use (DOCKER_HOST or the local socket). */
export function testDocker(): Docker {
  return (client ??= createDockerClient(resolveDockerEndpoint()));
}

/**
 * Labels for everything one test file creates. `berth.test=true` marks test objects
 * in general; `berth.test.run=<random>` marks this run, so a file cleaning up after
 * itself does not remove the containers of another test file running in parallel
 * (`node --test` runs files concurrently).
 */
export function testRun(): { id: string; labels: Record<string, string>; label: string } {
  const id = randomBytes(4).toString('hex');
  return { id, labels: { 'berth.test': 'true', 'berth.test.run': id }, label: `berth.test.run=${id}` };
}

/**
 * Removes every container, volume and network carrying `label` (`key=value`),
 * berth-managed or not. Safe to call from after() hooks: it never throws, so a
 * failing test still gets its cleanup and the real failure is what is reported.
 * Returns what it removed, by kind.
 */
export async function cleanupByLabel(label = 'berth.test=true'): Promise<{ containers: number; volumes: number; networks: number }> {
  const docker = testDocker();
  const filters = { label: [label] };
  const removed = { containers: 0, volumes: 0, networks: 0 };
  const containers = await docker.listContainers({ all: true, filters }).catch(() => []);
  await Promise.all(
    containers.map(async (c) => {
      await docker.getContainer(c.Id).remove({ force: true }).then(() => removed.containers++, () => undefined);
    }),
  );
  // Volumes and networks only after their containers are gone, or the engine refuses (in use).
  const volumes = (await docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))).Volumes ?? [];
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().then(() => removed.volumes++, () => undefined)));
  const networks = await docker.listNetworks({ filters }).catch(() => []);
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().then(() => removed.networks++, () => undefined)));
  return removed;
}
