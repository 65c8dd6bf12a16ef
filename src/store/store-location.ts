// Kept apart from pg-connect.ts so that reading a config never loads the pg driver.

/** True when a `store` setting names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/**
 * Why a `store` setting (or BERTH_STORE) is neither a SQLite file path nor a PostgreSQL
 * URL; undefined when it is one. A URL of another scheme (mysql://, a misspelt
 * postgress://, sqlite://) used to be taken as a relative file path: the gateway ran on
 * a private SQLite file named `mysql:/x` where a shared store was meant. Pure.
 */
export function storeLocationProblem(location: string): string | undefined {
  if (isPostgresUrl(location)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) || /^postgres(?:ql)?:/i.test(location)) {
    const scheme = location.slice(0, location.indexOf(':'));
    return `a ${scheme}: URL is not a store berth knows: give a SQLite file path (./data/berth.db) or a postgres:// URL`;
  }
  return undefined;
}

/**
 * The URL as it may be shown in logs and errors: user, host, port and database,
 * never the password (nor query parameters, which may carry one).
 */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `postgres://${user}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
