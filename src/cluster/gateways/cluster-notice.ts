/**
 * What gateways on one PostgreSQL store tell each other, over one LISTEN/NOTIFY
 * channel. A notice is a hint that something changed, never the state itself:
 * the state is in the tables (apps, gateways), so a lost notice costs only time
 * until the periodic resync, and a gateway that reconnects reads everything again.
 */
export type ClusterNotice =
  /** Desired state changed: these apps (absent: any) are read again from the store. */
  | { k: 'desired'; from: string; apps?: string[] }
  /** The leader is about to idle-stop or drain `app`: report activity now and admit nothing of it locally. */
  | { k: 'fence'; from: string; id: number; app: string }
  /** A follower has written its activity for fence `id`. */
  | { k: 'fenced'; from: string; id: number }
  /** The leader decided: `stopping` holds requests until this gateway sees the app down too. */
  | { k: 'unfence'; from: string; app: string; stopping: boolean }
  /** The leader is stopping `app` (`reason`: its status reason): the exits that follow are its stop, not the app's own. */
  | { k: 'stopping'; from: string; app: string; reason: string };

export const CLUSTER_CHANNEL = 'berth_cluster';

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes and more. */
const MAX_PAYLOAD = 7_900;

/** The notice as its NOTIFY payload; a desired notice naming too many apps becomes "any app". Pure. */
export function encodeNotice(notice: ClusterNotice): string {
  const text = JSON.stringify(notice);
  if (Buffer.byteLength(text) <= MAX_PAYLOAD) return text;
  if (notice.k === 'desired') return JSON.stringify({ k: 'desired', from: notice.from });
  throw new Error(`a ${notice.k} notice does not fit a NOTIFY payload`);
}

/** A payload back as a notice; anything malformed is undefined (ignored by the caller). Pure. */
export function decodeNotice(payload: string | undefined): ClusterNotice | undefined {
  if (!payload) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const n = value as Record<string, unknown>;
  if (typeof n.from !== 'string') return undefined;
  switch (n.k) {
    case 'desired':
      if (n.apps !== undefined && !(Array.isArray(n.apps) && n.apps.every((a) => typeof a === 'string'))) return undefined;
      return n.apps === undefined ? { k: 'desired', from: n.from } : { k: 'desired', from: n.from, apps: n.apps as string[] };
    case 'fence':
      return typeof n.id === 'number' && typeof n.app === 'string' ? { k: 'fence', from: n.from, id: n.id, app: n.app } : undefined;
    case 'fenced':
      return typeof n.id === 'number' ? { k: 'fenced', from: n.from, id: n.id } : undefined;
    case 'unfence':
      return typeof n.app === 'string' ? { k: 'unfence', from: n.from, app: n.app, stopping: n.stopping === true } : undefined;
    case 'stopping':
      return typeof n.app === 'string' && typeof n.reason === 'string' ? { k: 'stopping', from: n.from, app: n.app, reason: n.reason } : undefined;
    default:
      return undefined;
  }
}
