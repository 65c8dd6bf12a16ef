import { notGrantedBy, specAllowance } from '../runtime/launch-allowance.js';
import type { Instance } from '../runtime/runtime.js';
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
