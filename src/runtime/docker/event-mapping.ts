import { LABEL_APP } from '../runtime.js';
import type { InstanceHealth, RuntimeEvent } from '../runtime.js';
import { isManaged } from './names.js';

/** One message of the engine's /events stream (the fields berth reads). */
export interface DockerEventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

const HEALTHS: readonly InstanceHealth[] = ['starting', 'healthy', 'unhealthy'];

/**
 * An engine event → berth's RuntimeEvent; undefined for events berth does not act on
 * (create, attach, exec_*, …) and for containers that are not berth's, which the
 * engine-side label filter should already have dropped. Pure.
 */
export function toRuntimeEvent(msg: DockerEventMessage): RuntimeEvent | undefined {
  const attributes = msg.Actor?.Attributes ?? {};
  if (msg.Type !== 'container' || !isManaged(attributes) || !msg.Actor?.ID || !msg.Action) return undefined;
  const base = { app: attributes[LABEL_APP] ?? '', instanceId: msg.Actor.ID, time: eventTime(msg) };
  const action = msg.Action;
  switch (action) {
    case 'start':
    case 'stop':
    case 'pause':
    case 'unpause':
    case 'destroy':
    case 'oom':
      return { kind: action, ...base };
    case 'kill': {
      // "signal" is a number ("15") on this engine; a name would say nothing berth can use.
      const signal = Number(attributes['signal']);
      return Number.isInteger(signal) && signal > 0 ? { kind: 'kill', ...base, signal } : undefined;
    }
    case 'die': {
      const exitCode = Number(attributes['exitCode']);
      return Number.isInteger(exitCode) ? { kind: 'die', ...base, exitCode } : { kind: 'die', ...base };
    }
  }
  // Health changes arrive as "health_status: healthy" (the status is part of the action).
  if (action.startsWith('health_status')) {
    const status = action.slice(action.indexOf(':') + 1).trim();
    const health = HEALTHS.find((h) => h === status);
    if (health) return { kind: 'health', ...base, health };
  }
  return undefined;
}

/**
 * A network event → a 'network' RuntimeEvent about the container that joined or left
 * it; undefined for other network events. It carries no app (network events have no
 * container labels): managed-network-events.ts looks the container up, drops another
 * program's and fills in the app. Pure.
 */
export function toNetworkEvent(msg: DockerEventMessage): RuntimeEvent | undefined {
  const container = msg.Actor?.Attributes?.['container'];
  if (msg.Type !== 'network' || (msg.Action !== 'connect' && msg.Action !== 'disconnect') || !container) return undefined;
  return { kind: 'network', app: '', instanceId: container, time: eventTime(msg) };
}

export function eventTime(msg: DockerEventMessage): Date {
  if (msg.timeNano) return new Date(Math.floor(msg.timeNano / 1e6));
  return new Date((msg.time ?? 0) * 1000);
}
