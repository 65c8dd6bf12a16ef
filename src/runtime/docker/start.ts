import type Docker from 'dockerode';
import { ContainerPowersError, NotFoundError, RuntimeError, withLastOutput } from '../../errors.js';
import { LABEL_APP, type Instance } from '../runtime.js';
import { ensureAppsNetwork, needsAppsNetwork, rejoinAppsNetwork } from './apps-network.js';
import type { DockerContext } from './context.js';
import { checkContainerBindMounts } from './bind-mounts.js';
import { engineMessage, mapDockerError, statusOf } from './errors.js';
import { hostPortAnswers } from './host-port.js';
import { exitedAtStart } from './exited-at-start.js';
import { hostNetworkPort, toInstance } from './instance.js';
import { powersBeyond, powersProblem } from './launch-powers.js';
import { containerLogs } from './logs.js';
import { inspectContainer, requireManaged } from './managed.js';
import { lastOutput } from '../last-output.js';

/**
 * Starts a berth container (unpauses a paused one; a running one is left as it is)
 * and returns it with the address its port was published on, read back from inspect
 * because the host port is ephemeral and only known once the container runs.
 */
export async function startContainer(ctx: DockerContext, id: string): Promise<Instance> {
  const info = await requireManaged(ctx, id);
  const name = info.Name.replace(/^\//, '');
  // Under a `docker rm -f` from outside: as good as gone, so the caller makes a new one (ensure waits the removal out).
  if (info.State.Status === 'removing') throw new NotFoundError(`container ${name} is being removed`);
  const container = ctx.docker().getContainer(info.Id);
  // A paused or running container has its mounts, its port and its network already; only a stopped one gets them now.
  const stopped = info.State.Status !== 'paused' && info.State.Status !== 'running';
  const roots = ctx.bindMountRoots?.();
  // Mounts are made at start, following links as they are now.
  if (roots && stopped) checkContainerBindMounts(name, info.HostConfig.Mounts, roots);
  // Whoever made it (its labels are only strings), it runs with no power the policy denies.
  const allowed = ctx.launchPolicy?.();
  const beyond = allowed && info.State.Status !== 'running' ? powersProblem(name, powersBeyond(info.HostConfig, allowed), 'the gateway\'s policy') : undefined;
  if (beyond) throw new ContainerPowersError([{ path: 'security', message: `${beyond}; it is not started` }]);
  const app = info.Config.Labels?.[LABEL_APP];
  if (stopped && info.HostConfig?.NetworkMode === 'host') await refuseTakenHostPort(ctx, info, name);
  if (stopped && ctx.appsNetwork && app && needsAppsNetwork(info, ctx.appsNetwork)) {
    await rejoinAppsNetwork(ctx, container, name, app, ctx.appsNetwork);
  }
  try {
    if (info.State.Status === 'paused') await container.unpause();
    else if (stopped) await startOnce(ctx, container);
  } catch (err) {
    if (statusOf(err) === 409) {
      // 409 "marked for removal": a `docker rm -f` began between the look above and the start.
      const now = await inspectContainer(ctx, info.Id);
      if (!now || now.State.Status === 'removing') throw new NotFoundError(`container ${name} is being removed`);
    }
    // 304: it was started meanwhile by someone else, which is what we wanted.
    if (statusOf(err) !== 304) throw mapDockerError(err, `starting container ${name}`, ctx.endpoint.url);
  }
  let after = await inspectContainer(ctx, info.Id);
  if (!after) throw new RuntimeError(`container ${name} disappeared while starting`);
  // Taken off the apps network while it ran (docker network disconnect), it runs with no published port:
  // joined again live, the engine publishes it anew. Otherwise every later start would find it unreachable.
  if (ctx.appsNetwork && app && after.State.Status === 'running' && needsAppsNetwork(after, ctx.appsNetwork)) {
    await rejoinAppsNetwork(ctx, container, name, app, ctx.appsNetwork);
    after = await inspectContainer(ctx, info.Id);
    if (!after) throw new RuntimeError(`container ${name} disappeared while starting`);
  }
  const instance = toInstance(after, ctx.addresses.dialHost);
  if (instance.state === 'exited' || instance.state === 'dead') {
    // Failing here gives the caller the reason now rather than a readiness timeout later, with what the app
    // (or docker's init, when the command cannot be run: "exec /app failed: Permission denied") said last.
    const said = await lastOutput((options) => containerLogs(ctx, info.Id, options));
    throw withLastOutput(exitedAtStart(name, instance.exitCode), said);
  }
  if (instance.state === 'running' && !instance.address) {
    throw new RuntimeError(`container ${name} runs but has no published port; was it created by an older berth? remove it to recreate`);
  }
  return instance;
}

/**
 * A container on the host network listens on the host's port itself, where berth dials
 * it. When something answers there before the container runs, it is another process
 * (or an instance of the app started behind berth's back): the readiness probe would
 * pass on its answers and requests would go to it, while the app fails to bind.
 */
async function refuseTakenHostPort(ctx: DockerContext, info: Docker.ContainerInspectInfo, name: string): Promise<void> {
  const port = hostNetworkPort(info);
  if (!(port > 0) || !(await hostPortAnswers(ctx.addresses.dialHost, port))) return;
  throw new RuntimeError(`container ${name} is on the host network, and port ${port} there already answers before it runs: another process holds it, so berth does not start it`);
}

/**
 * Starts a stopped container. A container keeps the name of a network it was
 * connected to after `docker network rm` (the engine allows that while the
 * container is stopped) and its start then fails with 404 "network … not found",
 * forever. When that network is berth's apps network, berth makes it again
 * (the engine attaches by name) and starts once more; only then, so a usual
 * start costs no network lookup.
 */
async function startOnce(ctx: DockerContext, container: Docker.Container): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    if (!ctx.appsNetwork || statusOf(err) !== 404 || !engineMessage(err).includes(`network ${ctx.appsNetwork} not found`)) throw err;
    await ensureAppsNetwork(ctx, ctx.appsNetwork);
    await container.start();
  }
}
