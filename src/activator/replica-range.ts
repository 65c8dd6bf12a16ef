/**
 * Why `count` cannot be an app's replica count, or undefined when it can. Pure.
 *
 * The count lies in scale.min..scale.max and is at least 1: an app goes to zero by idling
 * out (scale.min 0), not by being scaled. The refusal says what bounds it and, past the
 * top, what to change: with the default scale (min 0, max 1) it read "must be from 1 to 1
 * (scale.min..scale.max)", naming a scale.min of 1 the spec never had and no way further.
 */
export function replicaRangeProblem(name: string, count: number, scale: { min: number; max: number }): string | undefined {
  const low = Math.max(scale.min, 1);
  if (Number.isInteger(count) && count >= low && count <= scale.max) return undefined;
  const bounds = scale.min >= 1 ? 'scale.min..scale.max' : `at least 1, at most scale.max`;
  const further = Number.isInteger(count) && count > scale.max ? `: raise scale.max in ${name}'s spec to run more` : '';
  return `replicas for ${name} must be from ${low} to ${scale.max} (${bounds}), not ${count}${further}`;
}

/**
 * The replica count after an app takes a new spec (`scale`), from the count it runs now. A count `berth scale`
 * set is kept (in the store) until the spec changes, and a changed spec drops it there: it goes here too, or the
 * app ran the scaled count on, then the spec's after a restart. The scaled count a store keeps comes in the
 * spec's scale.replicas (desiredSpecs), so it is run whenever it is kept. `specChanged`: any field of the spec
 * differs. Either way the count stays within scale.min..max, and at least 1. Pure.
 */
export function replicasAfterUpdate(current: number, scale: { min: number; max: number; replicas: number }, oldReplicas: number, specChanged: boolean): number {
  const count = scale.replicas !== oldReplicas || specChanged ? scale.replicas : current;
  return Math.min(Math.max(count, Math.max(scale.min, 1)), scale.max);
}
