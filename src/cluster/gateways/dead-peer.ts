import type pg from 'pg';

/**
 * How soon the PostgreSQL server finds out that a gateway holding an advisory
 * lock is gone without closing its connection: its host lost power, froze, or
 * was cut off by the network. A killed process closes its socket and the server
 * frees its locks at once; a vanished host does not, and the server kept the
 * session, so the leader lock and any per-app lease, for the kernel's default
 * of over two hours: no other gateway could lead (no idle stops, reconcile or
 * accounting) until then. These per-session settings make the server probe an
 * idle connection after `idleS` and drop it after `count` unanswered probes
 * `intervalS` apart, and drop one whose sent data stays unacknowledged for as
 * long (tcp_user_timeout, PostgreSQL 12 and later). Both act on TCP only: a
 * Unix socket connection ignores them.
 */
export interface DeadPeerProbes {
  idleS: number;
  intervalS: number;
  count: number;
}

/** ~11 s from the last sign of life to the server dropping the session (and its locks). */
export const DEAD_PEER_PROBES: DeadPeerProbes = { idleS: 5, intervalS: 2, count: 3 };

/** The probes' total: the bound on how long a vanished gateway's session outlives it. */
export function deadPeerBoundMs(p: DeadPeerProbes): number {
  return (p.idleS + p.intervalS * p.count) * 1_000;
}

/**
 * Sets the probes on a connection's session. Best effort: a server or a pooler
 * that refuses them leaves the session as it was (the lock still works; only
 * a vanished holder is noticed later), so failures are ignored.
 *
 * One statement: on a pooled connection it runs before whatever the pool's user sends
 * first (a BEGIN, queued behind it; session settings made inside a transaction that
 * rolls back would be undone). Two queued at once made pg print a deprecation warning
 * on every new connection. tcp_user_timeout (PostgreSQL 12 and later) is set in a block
 * of its own, so an older server that does not know it still takes the keepalives.
 */
export async function setDeadPeerProbes(client: pg.ClientBase, p: DeadPeerProbes = DEAD_PEER_PROBES): Promise<void> {
  try {
    await client.query(deadPeerProbesSql(p));
  } catch {
    // Refused (a pooler, an old server) or not whole seconds: the session stays as it was.
  }
}

/** The statement of setDeadPeerProbes. A DO block takes no parameters: the numbers are written in, as integers only. */
export function deadPeerProbesSql(p: DeadPeerProbes): string {
  const n = (value: number): string => {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`a dead-peer probe setting must be a whole number of seconds, not ${value}`);
    return `'${value}'`;
  };
  return [
    'DO $$ BEGIN',
    `PERFORM set_config('tcp_keepalives_idle', ${n(p.idleS)}, false), set_config('tcp_keepalives_interval', ${n(p.intervalS)}, false), set_config('tcp_keepalives_count', ${n(p.count)}, false);`,
    `BEGIN PERFORM set_config('tcp_user_timeout', ${n(deadPeerBoundMs(p))}, false); EXCEPTION WHEN OTHERS THEN NULL; END;`,
    'END $$',
  ].join(' ');
}
