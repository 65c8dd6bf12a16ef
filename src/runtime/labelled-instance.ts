import { LABEL_APP, LABEL_INDEX, LABEL_SPEC_HASH, LABEL_STORE, type Instance, type InstanceHealth, type InstanceState } from './runtime.js';

/**
 * What every runtime reads off berth's labels alike (app, index, spec hash, store),
 * around the object's own id, name, state and health. Pure.
 */
export function labelledInstance(id: string, name: string, labels: Record<string, string>, state: InstanceState, health: InstanceHealth): Instance {
  const instance: Instance = {
    id,
    name,
    app: labels[LABEL_APP] ?? '',
    index: Number(labels[LABEL_INDEX] ?? 0),
    specHash: labels[LABEL_SPEC_HASH] ?? '',
    state,
    health,
  };
  if (labels[LABEL_STORE]) instance.store = labels[LABEL_STORE];
  return instance;
}
