import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import { containerSpecHash } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';
import type { InstanceSet } from './instance-set.js';
import type { Slot } from './instance-slot.js';

/** What filling an app's replicas needs of it. */
export interface ReplicaFillHost {
  app: string;
  runtime: Runtime;
  logger: Logger;
  instances: InstanceSet;
  /** The app's spec now (an update may change it while a replica starts). */
  spec: () => AppSpec;
  /** The replica count now (a scale may change it while a replica starts). */
  replicas: () => number;
  /** The app serves (state running). */
  running: () => boolean;
  /** This gateway acts (leads); one that follows leaves fills to the leader. */
  acts: () => boolean;
  /** Brings one container up as a ready slot, as a cold start does (AppController's wake). */
  wake: (spec: AppSpec, index: number, deadline: number, existing?: Instance, onStarted?: (running: Instance) => void) => Promise<Slot>;
}

/**
 * Brings the number of an app's instances up to its replica count, in the background; failures are logged,
 * not fatal. A fill runs after the one under way, and not beside a rollout: each starts the containers it
 * claims, and two at once claimed the same ones (one container started twice, held by two slots; two fills
 * at once claimed the same free index).
 */
export class ReplicaFill {
  /** The fill under way, if any. */
  private filling?: Promise<void>;
  /** A rollout is under way: it brings the count up itself, with the new revision. */
  private rollingOut = false;

  constructor(private readonly host: ReplicaFillHost) {}

  fill(): Promise<void> {
    if (this.rollingOut) return Promise.resolve();
    const run: Promise<void> = (this.filling ?? Promise.resolve()).then(() => (this.rollingOut ? undefined : this.fillNow())).finally(() => {
      if (this.filling === run) this.filling = undefined;
    });
    this.filling = run;
    return run;
  }

  /** Runs a rollout: no fill begins meanwhile, and a fill that began before (the first start's replicas) ends first, so the rollout replaces what it started. */
  async duringRollout<T>(rollout: () => Promise<T>): Promise<T> {
    this.rollingOut = true;
    try {
      await this.filling;
      return await rollout();
    } finally {
      this.rollingOut = false;
    }
  }

  private async fillNow(): Promise<void> {
    const { host } = this;
    const missing = host.replicas() - host.instances.live.length;
    if (missing <= 0 || !host.running() || !host.acts()) return;
    const spec = host.spec();
    const starts = host.instances.claimReplicaStarts(containerSpecHash(spec), missing);
    await Promise.all(
      starts.map(async ({ index, existing }) => {
        let launched: Instance | undefined;
        try {
          const slot = await host.wake(spec, index, performance.now() + spec.startTimeoutMs, existing, (running) => (launched = running));
          // Stopped, changed, or scaled down while it started: it does not join past the count (it is kept for later).
          if (!host.running() || host.spec() !== spec || host.instances.live.length >= host.replicas()) {
            await host.runtime.stop(slot.instance.id).catch(() => undefined);
            host.instances.park({ ...slot.instance, state: 'exited', address: undefined });
            return;
          }
          host.instances.add(slot);
        } catch (err) {
          host.logger.warn({ app: host.app, index, err: messageOf(err) }, 'replica failed to start');
          // Outside the rotation and untracked, a never-ready replica would run for good, through the app's stops too:
          // it is stopped and kept (with a claimed container that did not start) for the next try.
          const kept = launched ?? existing;
          if (launched) await host.runtime.stop(launched.id, { timeoutS: 5 }).catch(() => undefined);
          if (kept) host.instances.park({ ...kept, state: 'exited', address: undefined });
        }
      }),
    );
  }
}
