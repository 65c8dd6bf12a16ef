import type Docker from 'dockerode';
import { testDocker } from './docker-cleanup.js';

/** The engine's view of an app's (single) container in this test run, or undefined when there is none. */
export async function inspectAppContainer(app: string, runLabel: string): Promise<Docker.ContainerInspectInfo | undefined> {
  const docker = testDocker();
  const [summary] = await docker.listContainers({ all: true, filters: { label: [`berth.app=${app}`, runLabel] } });
  if (!summary) return undefined;
  return docker.getContainer(summary.Id).inspect().catch(() => undefined);
}
