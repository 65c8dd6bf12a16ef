import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { StoreError } from '../errors.js';
import { specHash } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';
import { APP_COLUMNS, isRevertible, replacedRows, rowToApp, type AppRow } from './app-rows.js';
import type { HistoryColumns } from './history-columns.js';
import { PRUNE_APPS_PER_STEP, checkRetention, prepareHistory } from './history-rows.js';
import { pruneHistory } from './history-prune.js';
import { ThreadHistoryWriter, appendColumnsTo, type HistoryWriter } from './history-writer.js';
import { BUSY_SLICE_MS, BUSY_TIMEOUT_MS, openSqlite } from './open-sqlite.js';
import { currentFileId, isSqliteBusy, storeFileMoved, storeMovedError, storeRunError, type FileId } from './sqlite-errors.js';
import type {
  AppRevision,
  AppSource,
  HistoryPage,
  HistoryQuery,
  HistoryRetention,
  DeletedApp,
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
import { prepareTokens, rowToToken } from './token-rows.js';
import { prepareUsage } from './usage-rows.js';
import { prepareLastRequests } from './last-request-rows.js';
import { prepareFailures } from './failure-rows.js';
import { CERTIFICATE_COLUMNS, certificateToRow, rowToCertificate, type CertificateRow } from './certificate-rows.js';

export interface SqliteStoreOptions {
  /** The database file; its directory is created (owner-only) when missing. `:memory:` for tests. */
  path: string;
  /**
   * Write the request history from a worker thread with its own connection (default: true
   * for a file; `:memory:` is one connection's alone, so it always writes in-process).
   */
  historyThread?: boolean;
  /** Where the history writer thread's failures are told. */
  logger?: Logger;
  /** How long a write waits for another connection's lock before it fails (default BUSY_TIMEOUT_MS; tests shorten it). */
  busyTimeoutMs?: number;
}

/** The named parameters of an insert or update of one app. */
interface AppWrite {
  name: string;
  spec: string;
  hash: string;
  source: AppSource;
  now: number;
  /** The replaced row as JSON, kept until settled (API updates); null otherwise. */
  previous: string | null;
}

/** Statements prepared once per open; SQLite then only binds and steps them. */
function prepareApps(db: Database.Database) {
  return {
    list: db.prepare<[], AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE deleted_at IS NULL ORDER BY name`),
    get: db.prepare<[string], AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE name = ? AND deleted_at IS NULL`),
    page: db.prepare<[string, number], AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE name > ? AND deleted_at IS NULL ORDER BY name LIMIT ?`),
    // Any row, tombstone or not: a put over a tombstone replaces it.
    getAny: db.prepare<[string], AppRow & { deleted_at: number | null }>(`SELECT ${APP_COLUMNS}, deleted_at FROM apps WHERE name = ?`),
    insert: db.prepare<[AppWrite], AppRow>(
      `INSERT INTO apps (name, spec, revision, spec_hash, source, created_at, updated_at, previous)
       VALUES (@name, @spec, 1, @hash, @source, @now, @now, @previous) RETURNING ${APP_COLUMNS}`,
    ),
    update: db.prepare<[AppWrite], AppRow>(
      `UPDATE apps SET spec = @spec, revision = revision + 1, spec_hash = @hash, source = @source,
       updated_at = @now, replicas = NULL, previous = @previous WHERE name = @name RETURNING ${APP_COLUMNS}`,
    ),
    // The same spec now declared elsewhere (say, moved from the API into the config
    // file) changes who owns the app, but not the app: no new revision.
    setSource: db.prepare<[string, string], AppRow>(
      `UPDATE apps SET source = ? WHERE name = ? RETURNING ${APP_COLUMNS}`,
    ),
    purge: db.prepare<[string]>('DELETE FROM apps WHERE name = ?'),
    tombstone: db.prepare<[number, number, string]>('UPDATE apps SET deleted_at = ?, purge_volumes = ? WHERE name = ? AND deleted_at IS NULL'),
    listDeleted: db.prepare<[], { name: string; purge_volumes: number; deleted_at: number }>(
      'SELECT name, purge_volumes, deleted_at FROM apps WHERE deleted_at IS NOT NULL ORDER BY name',
    ),
    forget: db.prepare<[string]>('DELETE FROM apps WHERE name = ? AND deleted_at IS NOT NULL'),
    setReplicas: db.prepare<[number | null, string]>('UPDATE apps SET replicas = ? WHERE name = ? AND deleted_at IS NULL'),
    restore: db.prepare<[AppRow]>(
      `UPDATE apps SET spec = @spec, revision = @revision, spec_hash = @spec_hash, source = @source,
       updated_at = @updated_at, replicas = @replicas, previous = NULL, deleted_at = NULL, purge_volumes = 0 WHERE name = @name`,
    ),
    settle: db.prepare<[string]>('UPDATE apps SET previous = NULL WHERE name = ? AND previous IS NOT NULL'),
    isUnsettled: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM apps WHERE name = ? AND previous IS NOT NULL'),
    unsettled: db.prepare<[], { name: string; revision: number; previous: string }>('SELECT name, revision, previous FROM apps WHERE previous IS NOT NULL AND deleted_at IS NULL ORDER BY name'),
  };
}

type AppStatements = ReturnType<typeof prepareApps>;

function prepare(db: Database.Database) {
  const s = prepareApps(db);
  // IMMEDIATE takes the write lock up front, so the reads that decide each revision
  // cannot be overtaken by another connection's write before this batch commits.
  const failures = prepareFailures(db);
  const batch = db.transaction((specs: AppSpec[], source: AppSource, removeNames: string[]): PutResult[] => {
    const now = Date.now();
    const results = specs.map((spec) => putOne(s, spec, source, now));
    // A failure of the spec before says nothing of this one: a gateway restarted now must not show it.
    for (const r of results) if (r.changed) failures.forget(r.app.name);
    for (const name of removeNames) s.tombstone.run(now, 0, name);
    return results;
  });
  const insertMeta = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  return {
    ...s,
    // Insert-if-absent, then read: whoever inserted first (another gateway on the same file too) wins.
    secret: (key: string): string => {
      insertMeta.run(key, randomBytes(32).toString('hex'));
      return getMeta.get(key)!.value;
    },
    applyBatch: (...args: Parameters<typeof batch>) => batch.immediate(...args),
    // One transaction, one commit: each UPDATE on its own was a commit, synced to disk
    // (synchronous=FULL) while the event loop waited; an apply of 5000 small apps held it 7 s.
    settleAll: db.transaction((names: readonly string[]) => {
      for (const name of names) s.settle.run(name);
    }),
    // One transaction too: a whole apply is put back, or (a crash halfway) none of it.
    revertAll: db.transaction((only?: readonly AppRevision[]): string[] =>
      s.unsettled.all().filter((r) => isRevertible(r, only)).map((r) => {
        const row = JSON.parse(r.previous) as AppRow | null;
        // Created by the unsettled apply: it goes with it (its containers are then orphans, removed at the reconcile).
        if (row === null) {
          s.purge.run(r.name);
          return r.name;
        }
        const { name, spec, revision, spec_hash, source, created_at, updated_at } = row;
        s.restore.run({ name, spec, revision, spec_hash, source, created_at, updated_at, replicas: row.replicas ?? null });
        return name;
      }),
    ),
    // The app is gone for good: its failure goes with its tombstone.
    forgetDeleted: db.transaction((name: string) => {
      if (s.forget.run(name).changes > 0) failures.forget(name);
    }),
    failures,
    tokens: prepareTokens(db),
    history: prepareHistory(db),
    usage: prepareUsage(db),
    lastRequests: prepareLastRequests(db),
    certificates: {
      list: db.prepare<[], CertificateRow>(`SELECT ${CERTIFICATE_COLUMNS} FROM certificates ORDER BY host`),
      put: db.prepare<[CertificateRow]>(
        `INSERT INTO certificates (${CERTIFICATE_COLUMNS}) VALUES (@host, @cert, @key, @not_after, @last_error, @failures, @retry_at, @updated_at)
         ON CONFLICT (host) DO UPDATE SET cert = excluded.cert, key = excluded.key, not_after = excluded.not_after,
           last_error = excluded.last_error, failures = excluded.failures, retry_at = excluded.retry_at, updated_at = excluded.updated_at`,
      ),
    },
  };
}

type Statements = ReturnType<typeof prepare>;

/**
 * The embedded store: one SQLite file, nothing to install. better-sqlite3 is
 * synchronous, which suits a single gateway process: every call is short, and each
 * write batch is one transaction that commits whole or not at all.
 */
export class SqliteStore implements Store {
  readonly path: string;
  private db: Database.Database | undefined;
  private stmts: Statements | undefined;
  private history: HistoryWriter | undefined;
  /** The file as opened (undefined in memory): a write first checks the path still names it. */
  private fileId: FileId | undefined;
  /** The latest write (see write); each starts once the one before it is done. */
  private writing: Promise<unknown> = Promise.resolve();
  openedEmpty = false;

  constructor(private readonly options: SqliteStoreOptions) {
    this.path = options.path;
  }

  async open(): Promise<void> {
    if (this.db) return;
    const { db, wasEmpty } = await openSqlite(this.path);
    // From here on the event loop is the proxy's: a write waits out another connection's lock
    // in short slices with the loop free between them (see write), never in one blocking wait.
    db.pragma(`busy_timeout = ${BUSY_SLICE_MS}`);
    this.fileId = this.path === ':memory:' ? undefined : currentFileId(this.path);
    this.openedEmpty = wasEmpty;
    this.stmts = prepare(db);
    this.db = db;
    const inProcess = this.inProcessHistory();
    const threaded = this.path !== ':memory:' && (this.options.historyThread ?? true);
    this.history = threaded ? new ThreadHistoryWriter({ path: this.path, fileId: this.fileId, busyTimeoutMs: this.options.busyTimeoutMs ?? BUSY_TIMEOUT_MS, fallback: inProcess, logger: this.options.logger }) : inProcess;
  }

  /** The history writer in use (tests look at the thread's). */
  get historyWriter(): HistoryWriter | undefined {
    return this.history;
  }

  async close(): Promise<void> {
    // A write still waiting for a lock ends (written, or failed at its deadline) before the connection does.
    await this.writing;
    // The writer thread answers what it was given, then closes its own connection first.
    await this.history?.close();
    this.history = undefined;
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
  }

  async listApps(): Promise<StoredApp[]> {
    return this.run('list apps', (s) => s.list.all().map(rowToApp));
  }

  async listAppsPage(after: string | undefined, limit: number): Promise<StoredApp[]> {
    return this.run('list apps', (s) => s.page.all(after ?? '', limit).map(rowToApp));
  }

  async getApp(name: string): Promise<StoredApp | undefined> {
    return this.run(`read app "${name}"`, (s) => {
      const row = s.get.get(name);
      return row && rowToApp(row);
    });
  }

  async applyApps(specs: AppSpec[], source: AppSource, removeNames: string[] = []): Promise<PutResult[]> {
    return this.write('apply apps', (s) => s.applyBatch(specs, source, removeNames));
  }

  async deleteApp(name: string, options: { purgeVolumes?: boolean } = {}): Promise<boolean> {
    return this.write(`delete app "${name}"`, (s) => s.tombstone.run(Date.now(), options.purgeVolumes ? 1 : 0, name).changes > 0);
  }

  async listDeleted(): Promise<DeletedApp[]> {
    return this.run('list deleted apps', (s) =>
      s.listDeleted.all().map((r) => ({ name: r.name, purgeVolumes: r.purge_volumes === 1, deletedAt: new Date(r.deleted_at) })),
    );
  }

  async forgetDeleted(name: string): Promise<void> {
    await this.write(`forget deleted app "${name}"`, (s) => s.forgetDeleted.immediate(name));
  }

  async setReplicas(name: string, replicas: number | undefined): Promise<boolean> {
    return this.write(`keep the replicas of "${name}"`, (s) => s.setReplicas.run(replicas ?? null, name).changes > 0);
  }

  async restoreApp(app: StoredApp): Promise<void> {
    const row: AppRow = {
      name: app.name,
      spec: JSON.stringify(app.spec),
      revision: app.revision,
      spec_hash: app.specHash,
      source: app.source,
      created_at: app.createdAt.getTime(),
      updated_at: app.updatedAt.getTime(),
      replicas: app.replicas ?? null,
    };
    await this.write(`restore app "${app.name}"`, (s) => s.restore.run(row));
  }

  async settleApps(names: readonly string[]): Promise<void> {
    // Most calls find nothing to settle (the same specs applied again): a read says so, and the write,
    // which waits out another process holding the file's lock (a backup, the sqlite3 shell) and then
    // fails as 503, is only taken when there is something to write.
    const unsettled = await this.run('read which applied apps are unsettled', (s) => names.filter((name) => s.isUnsettled.get(name) !== undefined));
    if (unsettled.length === 0) return;
    await this.write('settle applied apps', (s) => s.settleAll(unsettled));
  }

  async replacedUnsettled(): Promise<StoredApp[]> {
    return this.run('read the rows of unsettled updates', (s) => replacedRows(s.unsettled.all()));
  }

  async revertUnsettled(only?: readonly AppRevision[]): Promise<string[]> {
    return this.write('revert unsettled updates', (s) => s.revertAll(only));
  }

  async storeId(): Promise<string> {
    return this.write('read the store id', (s) => s.secret('store_id'));
  }

  async getOrCreateSecret(key: string): Promise<Buffer> {
    return this.write(`read secret "${key}"`, (s) => Buffer.from(s.secret(`secret.${key}`), 'hex'));
  }

  async createToken(token: { id: string; name: string; hash: string }): Promise<StoredToken> {
    return this.write(`create token "${token.name}"`, (s) => s.tokens.create(token, Date.now()));
  }

  /** Oldest first. */
  async listTokens(): Promise<StoredToken[]> {
    return this.run('list tokens', (s) => s.tokens.list.all().map(rowToToken));
  }

  async findTokenByHash(hash: string): Promise<StoredToken | undefined> {
    return this.run('look up a token', (s) => {
      const row = s.tokens.byHash.get(hash);
      return row && rowToToken(row);
    });
  }

  /** Deletes the token with this id, or else with this name; false when there was none. */
  async revokeToken(idOrName: string, options?: RevokeOptions): Promise<boolean | 'last'> {
    return this.write(`revoke token "${idOrName}"`, (s) => s.tokens.revoke(idOrName, options));
  }

  /** One indexed UPDATE; last_used_at never moves backwards. */
  async touchToken(id: string, when: Date): Promise<void> {
    await this.write('record token use', (s) => s.tokens.touch.run({ id, when: when.getTime() }));
  }

  async countTokens(): Promise<number> {
    return this.run('count tokens', (s) => s.tokens.count.get() ?? 0);
  }

  /** Inserts the batch in one transaction: all of it or none. */
  async appendRequests(records: readonly RequestRecord[]): Promise<void> {
    if (!this.history) throw new StoreError(`store at ${this.path} is not open (cannot record ${records.length} request(s))`);
    return this.history.append(records);
  }

  /** A batch in columns (the HistoryBuffer's), in one transaction: all of it or none. */
  async appendColumns(cols: HistoryColumns): Promise<void> {
    if (!this.history) throw new StoreError(`store at ${this.path} is not open (cannot record ${cols.length} request(s))`);
    return appendColumnsTo(this.history, cols);
  }

  /**
   * One page of an app's history, newest first. `since` is inclusive, `until`
   * exclusive. A malformed cursor, status or date is a BadRequestError naming the field.
   */
  async queryRequests(query: HistoryQuery): Promise<HistoryPage> {
    return this.run(`read the history of "${query.app}"`, (s) => s.history.query(query));
  }

  /**
   * Deletes records older than now - maxAgeMs, then, over maxRecords, each app's oldest
   * down to its fair share (history-shares.ts), in chunks (see pruneHistory), on the history writer's thread
   * when it has one. Infinity turns either bound off.
   */
  async pruneRequests(retention: HistoryRetention, now: Date): Promise<number> {
    checkRetention(retention);
    if (!this.history) throw new StoreError(`store at ${this.path} is not open (cannot prune the history)`);
    return this.history.prune(retention, now.getTime());
  }

  /** The history written on the main connection: `:memory:`, or the thread's fallback. */
  private inProcessHistory(): HistoryWriter {
    const step = <T>(op: (s: Statements) => T) => this.run('prune the history', op);
    return {
      append: async (records) => this.write(`record ${records.length} request(s)`, (s) => s.history.append(records)),
      appendColumns: async (cols) => this.write(`record ${cols.length} request(s)`, (s) => s.history.appendColumns(cols)),
      prune: (retention, nowMs) =>
        pruneHistory(
          {
            deleteOlderChunk: (cutoff) => step((s) => s.history.deleteOlderChunk(cutoff)),
            appsPerStep: PRUNE_APPS_PER_STEP,
            mayExceed: (max) => step((s) => s.history.mayExceed(max)),
            appCounts: (after, limit) => step((s) => s.history.appCounts(after, limit)),
            recordsAtRank: (apps, offset) => step((s) => s.history.recordsAtRank(apps, offset)),
            deleteCutChunk: (cuts) => step((s) => s.history.deleteCutChunk(cuts)),
          },
          retention,
          nowMs,
        ),
      close: async () => undefined,
    };
  }

  /** Adds to the stored figures of each row's app and day, in one transaction. */
  async addUsage(rows: readonly UsageRow[]): Promise<void> {
    await this.write(`record usage of ${rows.length} app-day(s)`, (s) => s.usage.add(rows));
  }

  async queryUsage(query: UsageQuery): Promise<UsageRow[]> {
    return this.run('read usage', (s) => s.usage.query(query));
  }

  async lastRequests(): Promise<Map<string, number>> {
    return this.run('read last request times', (s) => s.lastRequests.all());
  }

  async saveLastRequests(changed: readonly LastRequest[], gone: readonly string[]): Promise<void> {
    await this.write(`save last request times of ${changed.length + gone.length} app(s)`, (s) => s.lastRequests.save(changed, gone));
  }

  async appFailures(): Promise<Map<string, StoredFailure>> {
    return this.run('read kept app failures', (s) => s.failures.all());
  }

  async saveAppFailure(app: string, failure: StoredFailure | undefined): Promise<void> {
    await this.write(`${failure ? 'keep' : 'forget'} the failure of ${app}`, (s) => s.failures.save(app, failure));
  }

  async pruneUsage(beforeDay: string): Promise<number> {
    return this.write('prune usage', (s) => s.usage.prune(beforeDay));
  }

  async listCertificates(): Promise<StoredCertificate[]> {
    return this.run('list certificates', (s) => s.certificates.list.all().map(rowToCertificate));
  }

  async putCertificate(certificate: StoredCertificate): Promise<void> {
    await this.write(`store the certificate of ${certificate.host}`, (s) => s.certificates.put.run(certificateToRow(certificate)));
  }

  /**
   * Runs one operation on the open database; SQLite failures become errors naming the path and
   * why (storeRunError: the disk full, a lock held elsewhere, a read-only mount answer 503).
   */
  private run<T>(what: string, op: (s: Statements) => T): T {
    if (!this.stmts) throw new StoreError(`store at ${this.path} is not open (cannot ${what})`);
    try {
      return op(this.stmts);
    } catch (err) {
      if (err instanceof Database.SqliteError) throw storeRunError(this.path, what, err);
      throw err;
    }
  }

  /**
   * Runs a write, waiting up to busyTimeoutMs for another connection's write lock (the
   * history thread's, or a process that opened the file) in slices of BUSY_SLICE_MS with the
   * event loop free between them: a lock held for seconds elsewhere used to stall the proxy
   * for the whole wait, at every write. Retrying is safe: an operation that met SQLITE_BUSY
   * wrote nothing (a transaction rolls back whole; the loops of single statements are idempotent).
   * Writes go one after another, in the order asked, as when each ran at once: a later one
   * (forget a failure) never lands before an earlier one still waiting (keep it). The deadline
   * counts from the call, so a queue behind a held lock fails within it too.
   */
  private write<T>(what: string, op: (s: Statements) => T): Promise<T> {
    const deadline = performance.now() + (this.options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
    const attempt = async (): Promise<T> => {
      // One stat per write (microseconds, beside a commit's fsync).
      if (this.fileId && storeFileMoved(this.fileId, currentFileId(this.path))) throw storeMovedError(this.path, what);
      // Its time ran out in the queue, behind writes that waited for the lock: refused without a
      // try, or a queue of them (a token use per API call) would each block a slice in turn.
      if (performance.now() >= deadline) throw storeRunError(this.path, what, new Database.SqliteError('database is locked', 'SQLITE_BUSY'));
      for (let n = 0; ; n++) {
        try {
          return this.run(what, op);
        } catch (err) {
          if (!isSqliteBusy((err as { cause?: unknown }).cause) || performance.now() >= deadline) throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** n, 200)));
      }
    };
    const run = this.writing.then(attempt, attempt);
    this.writing = run.catch(() => undefined);
    return run;
  }
}

/** Inserts, updates or keeps one app; must run inside the batch's transaction. */
function putOne(s: AppStatements, spec: AppSpec, source: AppSource, now: number): PutResult {
  const hash = specHash(spec);
  let existing: AppRow | undefined = s.getAny.get(spec.name);
  if (existing && 'deleted_at' in existing && existing.deleted_at !== null) {
    // A new app under a deleted one's name: its containers (if any are left) are
    // replaced or adopted by the new app's reconcile, like any other stale ones.
    s.purge.run(spec.name);
    existing = undefined;
  }
  if (existing && existing.spec_hash === hash) {
    const row = existing.source === source ? existing : s.setSource.get(source, spec.name);
    return { app: rowToApp(row ?? existing), changed: false };
  }
  // An API write is unsettled until settleApps: the row it replaced is kept, or JSON null for
  // an app it created, so that revertUnsettled undoes a whole apply a killed gateway never answered.
  const previous = source === 'api' ? JSON.stringify(existing ?? null) : null;
  const write: AppWrite = { name: spec.name, spec: JSON.stringify(spec), hash, source, now, previous };
  const row = existing ? s.update.get(write) : s.insert.get(write);
  if (!row) throw new StoreError(`app "${spec.name}" vanished while being written`);
  return { app: rowToApp(row), changed: true };
}
