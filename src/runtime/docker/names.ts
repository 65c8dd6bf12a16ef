import { LABEL_APP, LABEL_INDEX, LABEL_MANAGED, LABEL_STORE } from '../runtime.js';

/** Container of instance `index` of `app`: `berth-hello-0`. Stable, so a restarted gateway finds it again. */
export function containerName(app: string, index: number): string {
  return `berth-${app}-${index}`;
}

/** The app's named volume, shared by all its instances and kept across recreation. */
export function volumeName(app: string): string {
  return `berth-${app}-data`;
}

/** The one test of ownership: berth only ever touches objects carrying this label. */
export function isManaged(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL_MANAGED] === 'true';
}

/** Filter value for the engine's `label` filter selecting berth's objects. */
export const MANAGED_FILTER = `${LABEL_MANAGED}=true`;

/** Labels for an object owned by `app`; extra labels (tests use `berth.test=true`) never override berth's. */
export function ownerLabels(app: string, extra: Record<string, string>, index?: number): Record<string, string> {
  const labels: Record<string, string> = { ...extra, [LABEL_MANAGED]: 'true', [LABEL_APP]: app };
  if (index !== undefined) labels[LABEL_INDEX] = String(index);
  return labels;
}

/**
 * The store of another gateway that made an object of berth's, or undefined when
 * it is this gateway's (or either side has no store label: made before the label
 * existed, or a runtime used on its own). Gateways on one engine with their own
 * stores never take over each other's containers or volumes.
 */
export function otherGatewayStore(labels: Record<string, string> | null | undefined, extraLabels: Record<string, string>): string | undefined {
  const owner = labels?.[LABEL_STORE];
  const mine = extraLabels[LABEL_STORE];
  return owner && mine && owner !== mine ? owner : undefined;
}
