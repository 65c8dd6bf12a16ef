import pg from 'pg';
import type { Logger } from 'pino';
import { messageOf } from '../../errors.js';
import { CLUSTER_CHANNEL, decodeNotice, type ClusterNotice } from './cluster-notice.js';
import { DEAD_PEER_PROBES, setDeadPeerProbes, type DeadPeerProbes } from './dead-peer.js';

/** The advisory lock (two-key form, its own space) whose session holder leads. */
const LEADER_LOCK: readonly [number, number] = [0x62657274, 1];

export interface LeaderLeaseOptions {
  url: string;
  logger: Logger;
  /** How often the lock is tried (follower) or the connection checked (leader). Default 1 s. */
  pollMs?: number;
  /** How often a leader checks its connection. Default 500 ms. */
  checkMs?: number;
  /**
   * How long a leader keeps acting without a successful check of its
   * connection (default 2 s); and how long a gateway that just took the lock
   * waits before acting. The old leader's last successful check came before
   * the server let the lock go, so by the time the new one acts the old one
   * has stopped: never two leaders acting at once, whichever way the old
   * connection died (a kill, a restart of the server, a network cut).
   */
  leaseMs?: number;
  onLeading: (leading: boolean) => void;
  /**
   * Whether another gateway could be acting as leader now (its heartbeat is
   * recent). When none could, the lock is acted on at once, without the grace:
   * a lone gateway leads from its start. Absent, or failing: the grace applies.
   */
  othersAlive?: () => Promise<boolean>;
  onNotice: (notice: ClusterNotice) => void;
  /** The connection (and its LISTEN) was made again: notices may have been missed meanwhile. */
  onConnected: () => void;
  /** How soon the server drops this connection (and the lock) if this gateway's host vanishes. Default DEAD_PEER_PROBES. */
  deadPeer?: DeadPeerProbes;
}

/**
 * Leadership among gateways, and the notices channel, on one dedicated
 * connection: a session advisory lock (pg_try_advisory_lock, tried every
 * second) held for as long as the connection lives. The holder leads. Any
 * error on that connection, or a check that does not answer within the
 * lease, ends the leadership at once (onLeading(false)) and drops the
 * connection, which is also what frees the lock on the server: a killed
 * leader's lock goes with its socket, and another gateway takes it at its
 * next try.
 */
export class LeaderLease {
  private client?: pg.Client;
  private connecting = false;
  private busy = false;
  private closed = false;
  private lastOkMs = 0;
  private poll?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private failing = false;
  /** The lock is held; acting begins once the grace has passed. */
  private grace?: NodeJS.Timeout;
  leading = false;

  /** This gateway holds the lock (it may still be in its grace before acting). */
  private holding = false;

  constructor(private readonly options: LeaderLeaseOptions) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? 2_000;
  }

  /** Connects and tries the lock once before resolving (a lone gateway leads after the grace); then keeps trying. */
  async start(): Promise<void> {
    await this.tick();
    const pollMs = this.options.pollMs ?? 1_000;
    const checkMs = this.options.checkMs ?? 500;
    // Every tick checks (leader) or tries (follower); a follower skips the ticks between its tries.
    let sinceTry = 0;
    this.poll = setInterval(() => {
      sinceTry += checkMs;
      if (this.holding || sinceTry >= pollMs) {
        sinceTry = 0;
        void this.tick();
      }
    }, checkMs);
    this.poll.unref();
    this.watchdog = setInterval(() => {
      if (this.holding && performance.now() - this.lastOkMs > this.leaseMs) this.lost('the leader lock connection did not answer in time');
    }, 50);
    this.watchdog.unref();
  }

  private async tick(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      const client = this.client ?? (await this.connect());
      if (!client) return;
      if (this.holding) {
        const sent = performance.now();
        await client.query('SELECT 1');
        // The lease counts from when the check was sent: the server answered for that moment.
        if (this.client === client) this.lastOkMs = Math.max(this.lastOkMs, sent);
      } else {
        const sent = performance.now();
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...LEADER_LOCK]);
        if (rows[0]?.ok && this.client === client && !this.closed) {
          this.lastOkMs = sent;
          this.holding = true;
          const alone = this.options.othersAlive ? !(await this.options.othersAlive().catch(() => true)) : false;
          if (alone && this.holding && this.client === client) this.setLeading(true);
          else {
            this.grace = setTimeout(() => {
              this.grace = undefined;
              if (this.holding && this.client === client) this.setLeading(true);
            }, this.leaseMs + 100);
            this.grace.unref();
          }
        }
      }
    } catch (err) {
      this.lost(messageOf(err));
    } finally {
      this.busy = false;
    }
  }

  private async connect(): Promise<pg.Client | undefined> {
    if (this.connecting) return undefined;
    this.connecting = true;
    const client = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: 2_000, query_timeout: 2_000, keepAlive: true, application_name: 'berth-leader' });
    client.on('error', (err) => {
      if (this.client === client) this.lost(messageOf(err));
    });
    client.on('end', () => {
      if (this.client === client) this.lost('the leader lock connection ended');
    });
    client.on('notification', (msg) => {
      if (msg.channel !== CLUSTER_CHANNEL) return;
      const notice = decodeNotice(msg.payload);
      if (notice) this.options.onNotice(notice);
    });
    try {
      await client.connect();
      await setDeadPeerProbes(client, this.options.deadPeer ?? DEAD_PEER_PROBES);
      await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (!this.failing) this.options.logger.warn({ err: messageOf(err) }, 'cannot reach the store for leadership and notices; serving on, retrying every second');
      this.failing = true;
      return undefined;
    } finally {
      this.connecting = false;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return undefined;
    }
    if (this.failing) this.options.logger.info('the store is reachable again');
    this.failing = false;
    this.client = client;
    this.options.onConnected();
    return client;
  }

  /** The connection is unusable: stop leading now, then drop it (which frees the lock on the server). */
  private lost(why: string): void {
    const client = this.client;
    this.client = undefined;
    this.holding = false;
    clearTimeout(this.grace);
    this.grace = undefined;
    if (this.leading) {
      this.options.logger.warn({ why }, 'leadership lost: this gateway stops acting as leader');
      this.setLeading(false);
    }
    if (client) {
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (leading) this.options.logger.info('this gateway is the leader now');
    this.options.onLeading(leading);
  }

  /** Gives leadership up (the lock goes with the connection) and stops trying. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    clearInterval(this.watchdog);
    clearTimeout(this.grace);
    this.holding = false;
    const client = this.client;
    this.client = undefined;
    this.setLeading(false);
    await client?.end().catch(() => undefined);
  }
}
