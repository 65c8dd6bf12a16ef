import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import { notGrantedBy, specAllowance } from '../runtime/launch-allowance.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import type { AppSpec } from '../spec/types.js';

/**
 * The powers that keep a container found as it is from being adopted (empty: none): it runs (or is
 * frozen, which a wake thaws without a start) with powers over the host (Instance.hostPowers) that its
 * app's spec does not grant, whether or not the policy would allow them: berth gives a container what
 * its spec asks and no more. One the spec grants is berth's own, even from before a policy narrowed,
 * and runs on until stopped (as a reload leaves it). A stopped one is its start's to refuse. Pure.
 */
export function foreignRunning(instance: Pick<Instance, 'state' | 'hostPowers'>, spec: AppSpec): string[] {
  if (!instance.hostPowers?.length || !(instance.state === 'running' || instance.state === 'paused' || instance.state === 'restarting')) return [];
  return notGrantedBy(instance.hostPowers, specAllowance(spec));
}

/** Forged containers whose warning is remembered as given; past it, it starts over. */
const MAX_FOREIGN_TOLD = 64;

/**
 * Refuses an app's containers that run (or are frozen) with powers over the host their spec does not grant
 * (foreignRunning): made or started outside berth under berth's labels, which are only strings. Such a one
 * is neither routed to nor kept; the gateway that acts removes it (it carries berth's labels), so the app's
 * next start makes its own. A stopped one is kept like any other: its start refuses it and ensure makes it
 * anew (runtime start).
 */
export class ForeignContainers {
  /** The forged containers already warned of. */
  private readonly told = new Set<string>();

  constructor(
    private readonly app: string,
    private readonly runtime: Runtime,
    private readonly logger: Logger,
    /** This gateway acts (leads): it removes them; one that follows only warns. */
    private readonly acts: () => boolean,
  ) {}

  /** Whether `instance` is refused (and removed, by the gateway that acts). */
  async refused(instance: Instance, spec: AppSpec): Promise<boolean> {
    const powers = foreignRunning(instance, spec);
    if (powers.length === 0) return false;
    const acts = this.acts();
    // A gateway that does not lead finds it again at every resync until the leader removes it: said once.
    if (!this.told.has(instance.id)) {
      if (this.told.size >= MAX_FOREIGN_TOLD) this.told.clear();
      this.told.add(instance.id);
      this.logger.warn(
        { app: this.app, instance: instance.name, powers },
        `container ${instance.name} runs with ${powers.join(', ')}, which its spec does not grant: not made so by berth, it is not adopted${acts ? ' and is removed' : ''}`,
      );
    }
    if (acts) await this.runtime.remove(instance.id).catch((err: unknown) => this.logger.warn({ app: this.app, instance: instance.name, err: messageOf(err) }, 'removing a container with powers its spec does not grant failed'));
    return true;
  }
}
