import pg from 'pg';
import { BerthError, ConflictError, StoreError, StoreUnavailableError, messageOf } from '../errors.js';
import type { AppSpec } from '../spec/types.js';
import { APP_COLUMNS, isRevertible, replacedRows, rowToApp, type AppRow } from './app-rows.js';
import { metaSecret, putOne, restoreRow } from './pg-apps.js';
import { refuseClashes, refuseDependents } from './pg-set-checks.js';
import type { HistoryColumns } from './history-columns.js';
import { checkRetention } from './history-rows.js';
import { appendColumnsTo, type HistoryWriter } from './history-writer.js';
import { DEFAULT_SESSION_LIMITS, describePostgresUrl, inTransaction, isUniqueViolation, isUnreachable, openPool, pgSurroundings } from './pg-connect.js';
import { pgHistoryWriter, queryPgHistory } from './pg-history.js';
import { runPgMigrations } from './pg-migrations.js';
import { addPgUsage, prunePgUsage, queryPgUsage } from './pg-usage.js';
import { pgLastRequests, savePgLastRequests } from './pg-last-requests.js';
import { pgAppFailures, savePgAppFailure } from './pg-failures.js';
import type {
  DeleteOptions,
  AppRevision,
  AppSource,
  DeletedApp,
  HistoryPage,
  HistoryQuery,
  HistoryRetention,
  PutResult,
  RequestRecord,
  Store,
  StoredApp,
  StoredCertificate,
  RevokeOptions,
  StoredToken,
  UsageQuery,
  UsageRow,
  LastRequest,
  StoredFailure,
} from './store.js';
import { rowToToken, type TokenRow } from './token-rows.js';
import { CERTIFICATE_COLUMNS, certificateToRow, rowToCertificate, type CertificateRow } from './certificate-rows.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (the password is never logged). */
  url: string;
  /** Most connections this gateway holds open. Default 10. */
  maxConnections?: number;
  /**
   * How long one statement may go unanswered before it fails as store_unavailable
   * (and its connection is dropped). Default 30 s; 0: no bound (`berth store copy`).
   */
  queryTimeoutMs?: number;
  /**
   * How long the server keeps a transaction of this store's open while it waits for
   * the next statement. Default 10 s; 0: no bound (`berth store copy`).
   */
  idleInTransactionMs?: number;
}

/** Any fixed number: the advisory lock every desired-state write takes (see applyApps). */
const APPS_LOCK = 0x61707073;
const TOKEN_COLUMNS = 'id, name, hash, created_at, last_used_at';

/**
 * The store on a PostgreSQL server, for gateways that share one state. Same contract
 * and same rows as SqliteStore; every write batch is one transaction, durable at
 * commit (PostgreSQL's default synchronous_commit).
 */
export class PostgresStore implements Store {
  /** The URL without its password: what logs and errors show. */
  readonly where: string;
  private pool: pg.Pool | undefined;
  private history: HistoryWriter | undefined;
  /** The gateway this process is (several share one database): its history rows are tagged with it. */
  gatewayId?: string;
  /** A database is never "a file that lost its contents": an empty one is simply new. */
  readonly openedEmpty = false;

  constructor(private readonly options: PostgresStoreOptions) {
    this.where = describePostgresUrl(options.url);
  }

  async open(): Promise<void> {
    if (this.pool) return;
    const pool = await openPool(this.options.url, this.options.maxConnections, {
      queryTimeoutMs: this.options.queryTimeoutMs ?? DEFAULT_SESSION_LIMITS.queryTimeoutMs,
      idleInTransactionMs: this.options.idleInTransactionMs ?? DEFAULT_SESSION_LIMITS.idleInTransactionMs,
    });
    try {
      await runPgMigrations(pool, this.where);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw this.wrap('bring the schema up to date', err);
    }
    this.pool = pool;
    this.history = pgHistoryWriter(pool, () => this.gatewayId);
  }

  get historyWriter(): HistoryWriter | undefined {
    return this.history;
  }

  async close(): Promise<void> {
    await this.history?.close();
    this.history = undefined;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  async listApps(): Promise<StoredApp[]> {
    return this.rows('list apps', `SELECT ${APP_COLUMNS} FROM apps WHERE deleted_at IS NULL ORDER BY name`, [], rowToApp);
  }

  async listAppsPage(after: string | undefined, limit: number): Promise<StoredApp[]> {
    return this.rows('list apps', `SELECT ${APP_COLUMNS} FROM apps WHERE name > $1 AND deleted_at IS NULL ORDER BY name LIMIT $2`, [after ?? '', limit], rowToApp);
  }

  async getApp(name: string): Promise<StoredApp | undefined> {
    const rows = await this.rows(`read app "${name}"`, `SELECT ${APP_COLUMNS} FROM apps WHERE name = $1 AND deleted_at IS NULL`, [name], rowToApp);
    return rows[0];
  }

  /**
   * One transaction under an advisory lock, so that two gateways applying at once
   * are serialised as SQLite's IMMEDIATE transactions are: the reads that decide each
   * revision cannot be overtaken by another writer before this batch commits.
   */
  async applyApps(specs: AppSpec[], source: AppSource, removeNames: string[] = []): Promise<PutResult[]> {
    return this.run('apply apps', (pool) =>
      inTransaction(pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [APPS_LOCK]);
        // An API apply is checked against the other gateways' rows, under the lock: its gateway validated it against
        // its own copy. Not the config's apps: each gateway's config is its operator's, checked whole against the stored
        // apps at a reload; at a start a clash with an API app is kept as before, not turned into a gateway that will not start.
        if (source === 'api') await refuseClashes(c, specs);
        const now = Date.now();
        const results: PutResult[] = [];
        for (const spec of specs) results.push(await putOne(c, spec, source, now));
        // A failure of the spec before says nothing of this one (as SQLite's applyApps).
        const changed = results.filter((r) => r.changed).map((r) => r.app.name);
        if (changed.length > 0) await c.query('DELETE FROM app_failures WHERE app = ANY($1::text[])', [changed]);
        for (const name of removeNames) await c.query('UPDATE apps SET deleted_at = $1, purge_volumes = 0 WHERE name = $2 AND deleted_at IS NULL', [now, name]);
        return results;
      }),
    );
  }

  async deleteApp(name: string, options: DeleteOptions = {}): Promise<boolean> {
    const write = (c: pg.Pool | pg.PoolClient) =>
      c.query('UPDATE apps SET deleted_at = $1, purge_volumes = $2 WHERE name = $3 AND deleted_at IS NULL', [Date.now(), options.purgeVolumes ? 1 : 0, name]);
    const r = await this.run(`delete app "${name}"`, (p) =>
      options.refuseDependents
        ? inTransaction(p, async (c) => {
            // Under the apps lock, as applies are: an app depending on this one cannot be stored meanwhile.
            await c.query('SELECT pg_advisory_xact_lock($1)', [APPS_LOCK]);
            await refuseDependents(c, name);
            return write(c);
          })
        : write(p),
    );
    return (r.rowCount ?? 0) > 0;
  }

  async listDeleted(): Promise<DeletedApp[]> {
    return this.rows('list deleted apps', 'SELECT name, purge_volumes, deleted_at FROM apps WHERE deleted_at IS NOT NULL ORDER BY name', [], (r: { name: string; purge_volumes: number; deleted_at: number }) => ({
      name: r.name,
      purgeVolumes: r.purge_volumes === 1,
      deletedAt: new Date(r.deleted_at),
    }));
  }

  async forgetDeleted(name: string): Promise<void> {
    await this.run(`forget deleted app "${name}"`, (p) =>
      inTransaction(p, async (c) => {
        // The app is gone for good: its failure goes with its tombstone.
        const r = await c.query('DELETE FROM apps WHERE name = $1 AND deleted_at IS NOT NULL', [name]);
        if ((r.rowCount ?? 0) > 0) await c.query('DELETE FROM app_failures WHERE app = $1', [name]);
      }),
    );
  }

  async setReplicas(name: string, replicas: number | undefined): Promise<boolean> {
    const r = await this.run(`keep the replicas of "${name}"`, (p) => p.query('UPDATE apps SET replicas = $1 WHERE name = $2 AND deleted_at IS NULL', [replicas ?? null, name]));
    return (r.rowCount ?? 0) > 0;
  }

  async restoreApp(app: StoredApp): Promise<void> {
    await this.run(`restore app "${app.name}"`, (p) =>
      restoreRow(p, { name: app.name, spec: JSON.stringify(app.spec), revision: app.revision, spec_hash: app.specHash, source: app.source, created_at: app.createdAt.getTime(), updated_at: app.updatedAt.getTime(), replicas: app.replicas ?? null }),
    );
  }

  async settleApps(names: readonly string[]): Promise<void> {
    // A leader settles every app it follows; rows already settled are not written again (each would be a new tuple).
    await this.run('settle applied apps', (p) => p.query('UPDATE apps SET previous = NULL WHERE name = ANY($1::text[]) AND previous IS NOT NULL', [names]));
  }

  async replacedUnsettled(): Promise<StoredApp[]> {
    return this.run('read the rows of unsettled updates', async (p) =>
      replacedRows((await p.query<{ previous: string }>('SELECT previous FROM apps WHERE previous IS NOT NULL AND deleted_at IS NULL ORDER BY name')).rows),
    );
  }

  async revertUnsettled(only?: readonly AppRevision[]): Promise<string[]> {
    return this.run('revert unsettled updates', (pool) =>
      inTransaction(pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [APPS_LOCK]);
        const { rows } = await c.query<{ name: string; revision: number; previous: string }>('SELECT name, revision, previous FROM apps WHERE previous IS NOT NULL AND deleted_at IS NULL ORDER BY name');
        const names: string[] = [];
        for (const r of rows.filter((row) => isRevertible(row, only))) {
          const row = JSON.parse(r.previous) as AppRow | null;
          // Created by the unsettled apply: it goes with it.
          if (row === null) {
            await c.query('DELETE FROM apps WHERE name = $1', [r.name]);
            names.push(r.name);
            continue;
          }
          await restoreRow(c, { ...row, replicas: row.replicas ?? null });
          names.push(row.name);
        }
        return names;
      }),
    );
  }

  async storeId(): Promise<string> {
    return this.run('read the store id', (p) => metaSecret(p, 'store_id'));
  }

  async getOrCreateSecret(key: string): Promise<Buffer> {
    return this.run(`read secret "${key}"`, async (p) => Buffer.from(await metaSecret(p, `secret.${key}`), 'hex'));
  }

  async createToken(token: { id: string; name: string; hash: string }): Promise<StoredToken> {
    try {
      const rows = await this.rows(`create token "${token.name}"`, `INSERT INTO tokens (id, name, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING ${TOKEN_COLUMNS}`, [token.id, token.name, token.hash, Date.now()], rowToToken);
      return rows[0]!;
    } catch (err) {
      if (isUniqueViolation((err as Error).cause, 'tokens_name_key')) throw new ConflictError(`a token named "${token.name}" already exists`);
      throw err;
    }
  }

  /** Oldest first. */
  async listTokens(): Promise<StoredToken[]> {
    return this.rows('list tokens', `SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, name`, [], rowToToken);
  }

  async findTokenByHash(hash: string): Promise<StoredToken | undefined> {
    return (await this.rows('look up a token', `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $1`, [hash], rowToToken))[0];
  }

  /**
   * An id is tried before a name, so a name equal to another token's id never revokes two tokens.
   * Every token row is locked first: two gateways revoking the last two tokens at once are
   * serialized, and with `keepOne` the second sees the one left.
   */
  async revokeToken(idOrName: string, options: RevokeOptions = {}): Promise<boolean | 'last'> {
    return this.run(`revoke token "${idOrName}"`, (pool) =>
      inTransaction(pool, async (c) => {
        const rows = (await c.query<{ id: string; name: string }>('SELECT id, name FROM tokens FOR UPDATE')).rows;
        const target = rows.find((r) => r.id === idOrName) ?? rows.find((r) => r.name === idOrName);
        if (!target) return false;
        if (options.keepOne && rows.length <= 1) return 'last';
        return ((await c.query('DELETE FROM tokens WHERE id = $1', [target.id])).rowCount ?? 0) > 0;
      }),
    );
  }

  /** last_used_at never moves backwards. */
  async touchToken(id: string, when: Date): Promise<void> {
    await this.run('record token use', (p) => p.query('UPDATE tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)', [id, when.getTime()]));
  }

  async countTokens(): Promise<number> {
    return (await this.rows('count tokens', 'SELECT count(*) AS n FROM tokens', [], (r: { n: number }) => r.n))[0] ?? 0;
  }

  async appendRequests(records: readonly RequestRecord[]): Promise<void> {
    const history = this.history;
    if (!history) throw new StoreError(`store ${this.where} is not open (cannot record ${records.length} request(s))`);
    return this.run(`record ${records.length} request(s)`, () => history.append(records));
  }

  async appendColumns(cols: HistoryColumns): Promise<void> {
    const history = this.history;
    if (!history) throw new StoreError(`store ${this.where} is not open (cannot record ${cols.length} request(s))`);
    return this.run(`record ${cols.length} request(s)`, () => appendColumnsTo(history, cols));
  }

  async queryRequests(query: HistoryQuery): Promise<HistoryPage> {
    return this.run(`read the history of "${query.app}"`, (p) => queryPgHistory(p, query));
  }

  async pruneRequests(retention: HistoryRetention, now: Date): Promise<number> {
    checkRetention(retention);
    const history = this.history;
    if (!history) throw new StoreError(`store ${this.where} is not open (cannot prune the history)`);
    return this.run('prune the history', () => history.prune(retention, now.getTime()));
  }

  async addUsage(rows: readonly UsageRow[]): Promise<void> {
    await this.run(`record usage of ${rows.length} app-day(s)`, (p) => addPgUsage(p, rows));
  }

  async queryUsage(query: UsageQuery): Promise<UsageRow[]> {
    return this.run('read usage', (p) => queryPgUsage(p, query));
  }

  async lastRequests(): Promise<Map<string, number>> {
    return this.run('read last request times', (p) => pgLastRequests(p));
  }

  async saveLastRequests(changed: readonly LastRequest[], gone: readonly string[]): Promise<void> {
    await this.run(`save last request times of ${changed.length + gone.length} app(s)`, (p) => savePgLastRequests(p, changed, gone));
  }

  async appFailures(): Promise<Map<string, StoredFailure>> {
    return this.run('read kept app failures', (p) => pgAppFailures(p));
  }

  async saveAppFailure(app: string, failure: StoredFailure | undefined): Promise<void> {
    await this.run(`${failure ? 'keep' : 'forget'} the failure of ${app}`, (p) => savePgAppFailure(p, app, failure));
  }

  async pruneUsage(beforeDay: string): Promise<number> {
    return this.run('prune usage', (p) => prunePgUsage(p, beforeDay));
  }

  async listCertificates(): Promise<StoredCertificate[]> {
    return this.rows('list certificates', `SELECT ${CERTIFICATE_COLUMNS} FROM certificates ORDER BY host`, [], rowToCertificate);
  }

  async putCertificate(certificate: StoredCertificate): Promise<void> {
    const r = certificateToRow(certificate);
    await this.run(`store the certificate of ${certificate.host}`, (p) =>
      p.query(
        `INSERT INTO certificates (${CERTIFICATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (host) DO UPDATE SET cert = excluded.cert, key = excluded.key, not_after = excluded.not_after,
           last_error = excluded.last_error, failures = excluded.failures, retry_at = excluded.retry_at, updated_at = excluded.updated_at`,
        [r.host, r.cert, r.key, r.not_after, r.last_error, r.failures, r.retry_at, r.updated_at],
      ),
    );
  }

  /** The open pool, for `berth store copy`. */
  get connection(): pg.Pool {
    if (!this.pool) throw new StoreError(`store ${this.where} is not open`);
    return this.pool;
  }

  private async rows<R extends pg.QueryResultRow, T>(what: string, sql: string, params: unknown[], map: (row: R) => T): Promise<T[]> {
    const result = await this.run(what, (p) => p.query<R>(sql, params));
    return result.rows.map(map);
  }

  /** Runs one operation on the open pool; server failures become StoreErrors naming the store (never its password). */
  private async run<T>(what: string, op: (pool: pg.Pool) => Promise<T>): Promise<T> {
    if (!this.pool) throw new StoreError(`store ${this.where} is not open (cannot ${what})`);
    try {
      return await op(this.pool);
    } catch (err) {
      throw this.wrap(what, err);
    }
  }

  private wrap(what: string, err: unknown): Error {
    // berth's own errors (a bad cursor, a conflict) keep their code; server and socket errors become StoreErrors.
    if (err instanceof BerthError) return err;
    if (isUnreachable(err)) {
      return new StoreUnavailableError(`the store ${this.where} cannot be reached (${messageOf(err)}): cannot ${what} now; running apps keep being served, try again when the database is back`, { cause: err });
    }
    const reason = pgSurroundings(err);
    if (reason !== undefined) {
      return new StoreUnavailableError(`store ${this.where}: cannot ${what}: ${reason} (${messageOf(err)}); running apps keep being served, try again once it is fixed`, { cause: err });
    }
    if (err instanceof pg.DatabaseError || (err instanceof Error && 'code' in err)) {
      return new StoreError(`store ${this.where}: cannot ${what}: ${messageOf(err)}`, { cause: err });
    }
    return err as Error;
  }
}
