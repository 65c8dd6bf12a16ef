import Database from 'better-sqlite3';
import { ConflictError } from '../errors.js';
import type { RevokeOptions, StoredToken } from './store.js';

/** One row of the `tokens` table as better-sqlite3 returns it. */
export interface TokenRow {
  id: string;
  name: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
}

const TOKEN_COLUMNS = 'id, name, hash, created_at, last_used_at';

export function rowToToken(row: TokenRow): StoredToken {
  const token: StoredToken = { id: row.id, name: row.name, hash: row.hash, createdAt: new Date(row.created_at) };
  if (row.last_used_at !== null) token.lastUsedAt = new Date(row.last_used_at);
  return token;
}

interface TokenWrite {
  id: string;
  name: string;
  hash: string;
  now: number;
}

/** The token statements, prepared once per open. */
export function prepareTokens(db: Database.Database) {
  const insert = db.prepare<[TokenWrite], TokenRow>(
    `INSERT INTO tokens (id, name, hash, created_at) VALUES (@id, @name, @hash, @now) RETURNING ${TOKEN_COLUMNS}`,
  );
  const deleteById = db.prepare<[string]>('DELETE FROM tokens WHERE id = ?');
  const byIdOrName = db.prepare<[string, string, string], string>('SELECT id FROM tokens WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1').pluck();
  const count = db.prepare<[], number>('SELECT count(*) FROM tokens').pluck();
  // An id is tried before a name, so a name that happens to equal another token's id
  // can never revoke two tokens at once. The count is read in the same (immediate)
  // transaction as the delete, so `keepOne` holds against another process too.
  const revoke = db.transaction((idOrName: string, options: RevokeOptions): boolean | 'last' => {
    const id = byIdOrName.get(idOrName, idOrName, idOrName);
    if (id === undefined) return false;
    if (options.keepOne && (count.get() ?? 0) <= 1) return 'last';
    return deleteById.run(id).changes > 0;
  });
  return {
    list: db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, name`),
    byHash: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = ?`),
    count,
    // Never moves last_used_at backwards (two requests touching out of order).
    touch: db.prepare<[{ id: string; when: number }]>(
      'UPDATE tokens SET last_used_at = @when WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @when)',
    ),
    create(token: { id: string; name: string; hash: string }, now: number): StoredToken {
      try {
        const row = insert.get({ id: token.id, name: token.name, hash: token.hash, now });
        if (!row) throw new Error('INSERT … RETURNING returned no row');
        return rowToToken(row);
      } catch (err) {
        if (isUniqueViolation(err, 'tokens.name')) throw new ConflictError(`a token named "${token.name}" already exists`);
        throw err;
      }
    },
    revoke: (idOrName: string, options: RevokeOptions = {}): boolean | 'last' => revoke.immediate(idOrName, options),
  };
}

/** SQLite reports a UNIQUE failure as "UNIQUE constraint failed: table.column". */
function isUniqueViolation(err: unknown, column: string): boolean {
  return (
    err instanceof Database.SqliteError &&
    err.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    err.message.includes(column)
  );
}
