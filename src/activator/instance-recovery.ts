import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import type { AppSpec } from '../spec/types.js';
import { awaitHealthy } from './health-checker.js';
import { restartSlot } from './instance-failure.js';
import type { InstanceSet } from './instance-set.js';
import type { Slot } from './instance-slot.js';
import { HealthNotPassedError } from './start-errors.js';

/** What restarting an app's instances in place needs of it. */
export interface RecoveryHost {
  app: string;
  runtime: Runtime;
  logger: Logger;
  instances: InstanceSet;
  /** The app's spec now. */
  spec: () => AppSpec;
  /** This gateway acts (leads); one that follows leaves restarts to the leader. */
  acts: () => boolean;
  /** Throws when the policy in force refuses `spec` (launch-policy.ts). */
  requireLaunchable: (spec: AppSpec) => void;
  /** Runs `step` in turn with the app's lifecycle steps. */
  serial: (step: () => Promise<void>) => Promise<void>;
  /** Neither starting (a wake may have taken the instance up again) nor closed: a stray restart is stopped. */
  mayStopStray: () => boolean;
  /** Forgets a slot whose container did not come back; the app stops when it was the last one. */
  dropSlot: (slot: Slot, why: string) => void;
}

/**
 * An app's instances out of rotation (failed health checks, connection failures, a lost route, a change
 * behind berth's back) restarted in place; they rejoin once ready, and healthy again, while the others serve.
 */
export class InstanceRecovery {
  /**
   * Instances berth is restarting in place (recover), by id. Their start is berth's own: one the app let go of
   * meanwhile (a stop took it) must not be adopted as started outside berth when the engine reports it, which
   * undid the stop; strayRestart stops it instead.
   */
  private readonly restartingInPlace = new Set<string>();

  constructor(private readonly host: RecoveryHost) {}

  /** Whether `instanceId` is being restarted in place now: its start, when the engine reports it, is berth's own. */
  restarting(instanceId: string): boolean {
    return this.restartingInPlace.has(instanceId);
  }

  /**
   * An instance out of rotation (failed health checks, or connection failures)
   * is restarted in place and rejoins once ready; the others keep serving.
   * Its stop is berth's doing, so the engine's die event for it is no exit.
   * Says whether it serves again.
   */
  async recover(slot: Slot, why: string): Promise<boolean> {
    const { host } = this;
    if (slot.unhealthy || !host.instances.has(slot) || !host.acts()) return false;
    host.instances.takeOutOfRotation(slot, 'unhealthy');
    host.logger.warn({ app: host.app, instance: slot.instance.name, why }, 'instance out of rotation; restarting it');
    this.restartingInPlace.add(slot.instance.id);
    try {
      host.requireLaunchable(host.spec());
      const fresh = await restartSlot(host.runtime, host.spec(), slot);
      await this.passesHealthAgain(slot, fresh);
      if (!host.instances.has(slot)) return this.strayRestart(fresh.instance, why);
      host.instances.replace(slot, fresh);
      host.logger.info({ app: host.app, instance: fresh.instance.name, why }, 'instance restarted and back in rotation');
      return true;
    } catch (err) {
      host.logger.warn({ app: host.app, instance: slot.instance.name, err: messageOf(err) }, 'instance restart failed');
      if (!host.instances.has(slot)) return this.strayRestart(slot.instance, why);
      // Restarted but never ready, it must not run on untracked (the app may show stopped): stopped, and kept for the next start.
      await host.runtime.stop(slot.instance.id, { timeoutS: 5 }).catch(() => undefined);
      if (!host.instances.has(slot)) return false;
      host.instances.park({ ...slot.instance, state: 'exited', address: undefined });
      host.dropSlot(slot, `its container ${why} and ${err instanceof HealthNotPassedError ? err.detail : 'did not get ready again'} when restarted`);
      return false;
    } finally {
      this.restartingInPlace.delete(slot.instance.id);
    }
  }

  /**
   * A restarted instance rejoins once it has passed `healthyThreshold` health checks in a row, as an ejected
   * Envoy host does: ready (its readiness check) is not healthy, and it used to rejoin at once, so the
   * threshold decided nothing. Bounded by the app's start timeout beyond those checks; throws when it does not
   * pass them. An app with no other instance in rotation takes it back once ready (Envoy's panic mode at
   * its limit): from an instance whose checks fail it may still serve something, from none nothing. Asked
   * again at each check: the others leaving meanwhile (one exits and cannot be started again) left the app
   * serving nothing while this one, ready, waited out the whole deadline and was then dropped as well.
   */
  private async passesHealthAgain(slot: Slot, fresh: Slot): Promise<void> {
    const { host } = this;
    const health = host.spec().health;
    const alone = () => !host.instances.slots.some((s) => s !== slot && s.available);
    if (!health || alone()) return;
    const deadline = performance.now() + host.spec().startTimeoutMs + health.healthyThreshold * (health.intervalMs + health.timeoutMs);
    const passed = await awaitHealthy(fresh.upstream, health, deadline, () => host.instances.has(slot), alone);
    if (!passed.ok && host.instances.has(slot)) throw new HealthNotPassedError(host.app, `did not pass ${health.healthyThreshold} health checks in a row${passed.reason ? ` (${passed.reason})` : ''}`);
  }

  /**
   * A restart in place that ended after the app let go of its instance: a stop (idle, asked for, a delete)
   * took the slot meanwhile, and the stop wins. Its stop of the instance may have come before the restart's
   * start, which then ran it on, untracked, while the app showed stopped (a Swarm service left at 1 replica).
   * Stopped again, in turn with the app's steps: a wake queued meanwhile that took this very instance up
   * again (a Swarm service keeps its id) is left alone. Says false: the instance does not serve again.
   */
  private async strayRestart(instance: Instance, why: string): Promise<false> {
    const { host } = this;
    void host.serial(async () => {
      if (host.instances.slotOf(instance.id) || !host.mayStopStray()) return;
      await host.runtime.stop(instance.id, { timeoutS: 5 }).catch((err: unknown) => host.logger.warn({ app: host.app, instance: instance.name, why, err: messageOf(err) }, 'could not stop an instance restarted after its app stopped'));
    });
    return false;
  }
}
