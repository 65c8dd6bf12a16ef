import type pg from 'pg';
import { leaderStatusOf } from './leader-status.js';
import type { PeerActivityEntry } from './local-activity.js';

/** A gateway is alive while its heartbeat is younger than this (server time: no clock skew between hosts). */
export const ALIVE_MS = 5_000;
/** Rows of gateways gone longer than this are deleted by the leader. */
const FORGET_MS = 10 * 60_000;

/** One gateway as the registry shows it. */
export interface GatewayInfo {
  id: string;
  proxyAddress: string;
  adminAddress: string;
  version: string;
  startedAt: Date;
  lastHeartbeat: Date;
  leader: boolean;
  alive: boolean;
  activity: PeerActivityEntry[];
}

/** What a gateway writes about itself at each heartbeat. */
export interface SelfInfo {
  id: string;
  proxyAddress: string;
  adminAddress: string;
  version: string;
  startedAtMs: number;
}

interface GatewayRow {
  id: string;
  proxy_address: string;
  admin_address: string;
  version: string;
  started_at: number | string;
  heartbeat_at: Date;
  leader: boolean;
  alive: boolean;
  activity: unknown;
}

/** The heartbeat: this gateway's row, with its leader flag and activity, written now. */
export async function beat(pool: pg.Pool, self: SelfInfo, leader: boolean, activity: readonly PeerActivityEntry[]): Promise<void> {
  await pool.query(
    `INSERT INTO gateways (id, proxy_address, admin_address, version, started_at, heartbeat_at, leader, activity)
     VALUES ($1, $2, $3, $4, $5, now(), $6, $7::jsonb)
     ON CONFLICT (id) DO UPDATE SET proxy_address = $2, admin_address = $3, version = $4, started_at = $5, heartbeat_at = now(), leader = $6, activity = $7::jsonb`,
    [self.id, self.proxyAddress, self.adminAddress, self.version, self.startedAtMs, leader, JSON.stringify(activity)],
  );
}

/** Every registered gateway, alive ones first; aliveness is judged by the server's clock. */
export async function listGateways(pool: pg.Pool): Promise<GatewayInfo[]> {
  const { rows } = await pool.query<GatewayRow>(
    `SELECT id, proxy_address, admin_address, version, started_at, heartbeat_at, leader, activity,
            heartbeat_at > now() - ($1::double precision * interval '1 millisecond') AS alive
     FROM gateways ORDER BY alive DESC, id`,
    [ALIVE_MS],
  );
  // A killed leader's row says leader until its heartbeat ages out; the newest claim is the one that holds.
  const claims = rows.filter((r) => r.leader && r.alive).sort((x, y) => y.heartbeat_at.getTime() - x.heartbeat_at.getTime());
  const leader = claims[0]?.id;
  return rows.map((r) => ({
    id: r.id,
    proxyAddress: r.proxy_address,
    adminAddress: r.admin_address,
    version: r.version,
    startedAt: new Date(Number(r.started_at)),
    lastHeartbeat: r.heartbeat_at,
    leader: r.id === leader,
    alive: r.alive,
    activity: activityOf(r.activity),
  }));
}

/** Whether a gateway other than `self` had a heartbeat within `withinMs` (it could still be acting as leader). */
export async function othersAlive(pool: pg.Pool, self: string, withinMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(`SELECT 1 FROM gateways WHERE id <> $1 AND heartbeat_at > now() - ($2::double precision * interval '1 millisecond') LIMIT 1`, [self, withinMs]);
  return (rowCount ?? 0) > 0;
}

/** A gateway that shuts down cleanly leaves the registry at once. */
export async function leave(pool: pg.Pool, id: string): Promise<void> {
  await pool.query('DELETE FROM gateways WHERE id = $1', [id]);
}

/** The leader forgets gateways gone for a long while. */
export async function forgetGone(pool: pg.Pool): Promise<void> {
  await pool.query(`DELETE FROM gateways WHERE heartbeat_at < now() - ($1::double precision * interval '1 millisecond')`, [FORGET_MS]);
}

/** The leader's view of app states, for the other gateways' API: changed rows written, undeclared apps' rows deleted. */
export async function writeAppStates(pool: pg.Pool, changed: ReadonlyArray<[app: string, status: string]>, declared: readonly string[]): Promise<void> {
  if (changed.length > 0) {
    await pool.query(
      `INSERT INTO app_states (app, status, updated_at)
       SELECT app, status::jsonb, $3 FROM unnest($1::text[], $2::text[]) AS t(app, status)
       ON CONFLICT (app) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`,
      [changed.map((c) => c[0]), changed.map((c) => c[1]), Date.now()],
    );
  }
  await pool.query('DELETE FROM app_states WHERE NOT (app = ANY($1::text[]))', [declared]);
}

/** The leader's app states; a malformed row is left out (that app shows this gateway's own view). */
export async function readAppStates(pool: pg.Pool): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await pool.query<{ app: string; status: unknown }>('SELECT app, status FROM app_states');
  const out = new Map<string, Record<string, unknown>>();
  for (const r of rows) {
    const status = leaderStatusOf(r.app, r.status);
    if (status) out.set(r.app, status);
  }
  return out;
}

/**
 * A row's activity column as entries; malformed entries are left out. Every
 * gateway reads every row at each heartbeat, so one bad row would otherwise
 * throw in every gateway's fold and stop all their heartbeats. Pure.
 */
export function activityOf(value: unknown): PeerActivityEntry[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (e): e is PeerActivityEntry =>
      Array.isArray(e) && e.length === 3 && typeof e[0] === 'string' && Number.isInteger(e[1]) && (e[1] as number) >= 0 && Number.isFinite(e[2]),
  );
}
