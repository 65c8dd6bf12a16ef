import pg from 'pg';
import { StoreError, messageOf } from '../errors.js';
import { describePostgresUrl } from './store-location.js';

export { describePostgresUrl, isPostgresUrl } from './store-location.js';

/** Where a connection failure names the server: the host (and port) it tried, never the URL's password. */
function serverOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'the server';
  }
}

// BIGINT (int8) columns hold epoch milliseconds and ids, all within 2^53: numbers,
// not the strings pg gives by default (which would leak into Dates and cursors).
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Bounds on a store connection's waits; 0 leaves one unbounded. */
export interface SessionLimits {
  /**
   * How long a statement may go unanswered. A link that loses packets without a
   * reset (a cut network, a frozen host) otherwise leaves the statement, and the
   * API call or history flush behind it, waiting for the kernel's TCP timeout:
   * a quarter of an hour.
   */
  queryTimeoutMs: number;
  /**
   * How long the server keeps one of these sessions' transactions open while it
   * waits for the next statement. A gateway cut off between two statements (its
   * COMMIT lost) otherwise leaves its transaction, and the locks it took (the
   * apps lock every apply takes), on the server until the server's TCP keepalive
   * notices: two hours in which no gateway can apply. berth's transactions send
   * their statements back to back, so a gap this long means the client is gone.
   */
  idleInTransactionMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { queryTimeoutMs: 30_000, idleInTransactionMs: 10_000 };

/**
 * A pool of connections to the store's server. The first connection is made here,
 * so a server that cannot be reached is one clear StoreError naming the host, not a
 * stack from the first query.
 */
export async function openPool(url: string, max = 10, limits: SessionLimits = DEFAULT_SESSION_LIMITS): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types,
    connectionTimeoutMillis: 10_000,
    application_name: 'berth',
    // pg sends neither when 0: no bound.
    query_timeout: limits.queryTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionMs,
  });
  // An idle connection the server drops (a restart) is an 'error' event on the pool;
  // unhandled it would end the process. The next query opens a new connection.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreError(`store ${describePostgresUrl(url)}: cannot connect to PostgreSQL at ${serverOf(url)}: ${connectMessage(err)}`, { cause: err });
  }
  return pool;
}

function connectMessage(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running and listening there?)';
  if (code === 'ENOTFOUND') return 'no such host';
  if (code === '28P01' || code === '28000') return 'authentication failed';
  if (code === '3D000') return 'no such database';
  return messageOf(err);
}

/** Runs `fn` in one transaction on one connection: committed whole, or rolled back. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkOut(pool);
  let broken: Error | true | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back (gone silent, its session lost) is dropped, never handed out again:
    // a silent one would make every later statement on it wait out its own timeout.
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    if (!rolledBack) broken = err instanceof Error ? err : true;
    throw err;
  } finally {
    release(broken);
  }
}

/** A connection checked out of a pool, guarded for the session ending while it is held (see checkOut). */
export interface CheckedOut {
  client: pg.PoolClient;
  /** Why the server ended the session, once it did. */
  lost(): Error | undefined;
  /** Back to the pool; destroyed instead when the session was lost or `err` is given. */
  release(err?: Error | true): void;
}

/**
 * Checks a connection out of `pool`. A checked-out client has no listener of the
 * pool's: the server ending its session while it is held (a restart) would be an
 * uncaught 'error' and end the process. The error is kept (and passed to `onLost`)
 * instead; the next statement on the client fails, and release destroys it.
 */
export async function checkOut(pool: pg.Pool, onLost?: (err: Error) => void): Promise<CheckedOut> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
    onLost?.(err);
  };
  client.on('error', onError);
  return {
    client,
    lost: () => lost,
    release: (err) => {
      client.removeListener('error', onError);
      client.release(err ?? lost);
    },
  };
}

/** PostgreSQL's unique_violation, on the named constraint. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  return err instanceof pg.DatabaseError && err.code === '23505' && err.constraint === constraint;
}

/** Server states that mean "not reachable now" rather than "this query is wrong": shutting down, starting, refusing connections. */
const UNREACHABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const UNREACHABLE_SYSCODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);

/** Whether a pg error says the server is out of reach (down, restarting, the connection lost), as opposed to a failed statement. */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (UNREACHABLE_SQLSTATES.has(code) || UNREACHABLE_SYSCODES.has(code))) return true;
  const message = err instanceof Error ? err.message : '';
  // "Query read timeout": the statement went unanswered for the pool's query_timeout (a silent link, or a server too slow to use).
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(message);
}

/**
 * The reason in a few words when a statement failed for the server's surroundings rather than
 * for itself: the database read-only (a hot standby after a failover, default_transaction_read_only),
 * its disk full, no connection to spare, out of memory, an I/O error. Like SQLite's (storeRunError),
 * these pass once fixed: 503 store_unavailable saying why, not a 500. Undefined for any other. Pure.
 */
export function pgSurroundings(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === '25006') return 'the database is read-only (a hot standby, or default_transaction_read_only)';
  // A standby refuses the advisory lock every desired-state write takes before any write could say "read-only".
  if (code === '55000' && /recovery is in progress|during recovery/i.test(err instanceof Error ? err.message : '')) return 'the database is a hot standby (read-only)';
  if (code === '53100') return "the database server's disk is full";
  if (code === '53300') return 'the server has no connection to spare (too many connections)';
  if (code === '53200') return 'the server is out of memory';
  if (code === '53000' || code === '53400') return 'the server is out of resources';
  if (code === '58030') return 'I/O error on the server';
  return undefined;
}
