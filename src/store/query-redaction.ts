/**
 * Query parameters whose values the request history keeps out by default (Caddy's log
 * `query` filter, by default): tokens, keys, passwords and the signatures of signed URLs
 * (S3's, GCS's, Azure's SAS `sig`) travel in query strings, and the history is kept in the
 * store, shown by `berth history`, the API and the dashboard, and exported. Compared with
 * the parameter's name decoded and lower-cased, so `Access_Token` and `access%5Ftoken`
 * are caught as `access_token` is.
 */
export const DEFAULT_SENSITIVE_PARAMS: readonly string[] = [
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'auth',
  'authorization',
  'jwt',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'code',
  'session',
  'sessionid',
  'session_id',
  'sig',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
];

/** What a sensitive parameter's value becomes. */
export const REDACTED = 'REDACTED';

/** The history's choice (config `history.sensitiveParams`, `history.keepQueries`). */
export interface QueryRedactionSettings {
  /** Names added to DEFAULT_SENSITIVE_PARAMS. */
  sensitiveParams?: readonly string[];
  /** Keep every query string whole, as the client sent it. */
  keepQueries?: boolean;
}

/** The target as the history keeps it; pure, and cheap on the hot path. */
export type TargetRedactor = (target: string) => string;

/** The redactor of a gateway's settings: the identity when queries are kept whole. Pure. */
export function queryRedactor(settings: QueryRedactionSettings = {}): TargetRedactor {
  if (settings.keepQueries) return (target) => target;
  const names = sensitiveNames([...DEFAULT_SENSITIVE_PARAMS, ...(settings.sensitiveParams ?? [])]);
  return (target) => redactQuery(target, names);
}

/** Parameter names, lower-cased, and the characters one of them may begin with as written. */
export interface SensitiveNames {
  readonly names: ReadonlySet<string>;
  /** By char code below 128: 1 where a name may begin (either case, `%` for an escape, `+` for a space). */
  readonly firstChars: Uint8Array;
}

/** The names compiled for redactQuery. Pure. */
export function sensitiveNames(list: readonly string[]): SensitiveNames {
  const names = new Set(list.map((n) => n.toLowerCase()));
  const firstChars = new Uint8Array(128);
  firstChars['%'.charCodeAt(0)] = 1;
  for (const name of names) {
    const first = name.charAt(0);
    for (const c of [first, first.toUpperCase(), first === ' ' ? '+' : first]) if (c.charCodeAt(0) < 128) firstChars[c.charCodeAt(0)] = 1;
  }
  return { names, firstChars };
}

/**
 * `target` with the value of every parameter named in `sensitive` replaced by
 * REDACTED; the same string when there is none. A target without `?` (most requests)
 * costs one indexOf; a query is walked once and a new string made only when a value is
 * replaced. Empty values stay empty (nothing to hide). Pure.
 */
export function redactQuery(target: string, sensitive: SensitiveNames): string {
  const { names, firstChars } = sensitive;
  const q = target.indexOf('?');
  if (q < 0) return target;
  let pieces: string[] | undefined;
  let copied = 0;
  let start = q + 1;
  // The next '=' at or after start (target.length: none). Kept across parameters without one,
  // so `?a&a&a…&b=1` is walked once, not once per parameter.
  let eq = -1;
  while (start < target.length) {
    let end = target.indexOf('&', start);
    if (end < 0) end = target.length;
    // Most parameters (page=, q=, sort=) are passed over by their first character alone.
    const first = target.charCodeAt(start);
    if (first < 128 && firstChars[first] === 0) {
      start = end + 1;
      continue;
    }
    if (eq < start) {
      eq = target.indexOf('=', start);
      if (eq < 0) eq = target.length;
    }
    if (eq + 1 < end && names.has(paramName(target.slice(start, eq)))) {
      (pieces ??= []).push(target.slice(copied, eq + 1), REDACTED);
      copied = end;
    }
    start = end + 1;
  }
  if (pieces === undefined) return target;
  pieces.push(target.slice(copied));
  return pieces.join('');
}

/**
 * A parameter's name as an application reads it (form decoding: `+` is a space, then
 * percent-decoding), lower-cased. A malformed escape is compared as written, which is
 * how most servers leave it too.
 */
function paramName(raw: string): string {
  if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) return raw.toLowerCase();
  try {
    return decodeURIComponent(raw.replaceAll('+', ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}
