/** Engine helpers the benchmarks share: the test image check and the removal of a run's objects. */
import type Docker from 'dockerode';

export const IMAGE = 'berth-test/app:latest';
/** The port the test app listens on in its container. */
export const APP_PORT = 8080;

/** The labels on everything a run creates, and the filter that finds it. */
export function runLabels(runId: string): { labels: Record<string, string>; runLabel: string } {
  return { labels: { 'berth.bench': 'true', 'berth.bench.run': runId }, runLabel: `berth.bench.run=${runId}` };
}

/** The engine answers and has the test image (nothing is pulled). */
export async function requireImage(docker: Docker, image = IMAGE): Promise<void> {
  await docker.ping();
  const found = await docker.getImage(image).inspect().catch(() => undefined);
  if (!found) throw new Error(`image ${image} is not on this engine: run 'bash scripts/build-test-images.sh' (nothing is pulled)`);
}

/** Removes the containers, volumes and networks labelled `runLabel`; never fails; says how many went. */
export async function removeRunObjects(docker: Docker, runLabel: string): Promise<string> {
  const filters = { label: [runLabel] };
  const containers = await docker.listContainers({ all: true, filters }).catch(() => []);
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  const volumes = (await docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))).Volumes ?? [];
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
  const networks = await docker.listNetworks({ filters }).catch(() => []);
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
  return `${containers.length} containers, ${volumes.length} volumes, ${networks.length} networks`;
}
