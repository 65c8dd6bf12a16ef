/**
 * Reads a Traefik router rule, as cntSpawner writes them in container labels:
 * `PathPrefix(\`/session/minion-1/\`)`, `Host(\`a.example.com\`)`, or both joined
 * with `&&`, alternatives joined with `||`. Only Host and PathPrefix have a berth
 * equivalent; anything else is refused rather than silently widened to more traffic.
 */

export interface RuleRoute {
  host?: string;
  path?: string;
  /** The matchers this route came from, for messages. */
  source: string;
}

export type RuleResult = { ok: true; routes: RuleRoute[] } | { ok: false; message: string };

const TERM = /^\s*([A-Za-z]+)\s*\((.*)\)\s*$/s;
// Traefik v2 accepts backticks and double quotes; v3 backticks. Accept both.
const ARGUMENT = /\s*(?:`([^`]*)`|"((?:[^"\\]|\\.)*)")\s*(,|$)/gy;
const SUPPORTED = 'berth understands Host(...) and PathPrefix(...) joined by && and ||';

/** The arguments of one matcher, undefined when they are not a list of quoted strings, or why one quoted string cannot be read. */
function readArguments(text: string): string[] | string | undefined {
  const values: string[] = [];
  ARGUMENT.lastIndex = 0;
  while (ARGUMENT.lastIndex < text.length) {
    const match = ARGUMENT.exec(text);
    if (!match) return undefined;
    const value = match[1] ?? unquote(match[2]!);
    if (value === undefined) return 'a value in double quotes has an escape or a control character berth does not read: write it in backticks';
    values.push(value);
    if (match[3] === '') break;
  }
  return values.length > 0 ? values : undefined;
}

/**
 * A double-quoted argument's value, by JSON's escapes, or undefined. Go's (Traefik v2
 * unquotes with strconv.Unquote) have more (`\x41`, `\101`), and JSON refuses a raw
 * control character: such a value threw a SyntaxError out of the spec check, and the
 * API answered POST /v1/ with a 500 instead of naming the label.
 */
function unquote(body: string): string | undefined {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return undefined;
  }
}

/** One `&&` group: every Host × every PathPrefix it names. */
function readConjunction(text: string): RuleRoute[] | string {
  let hosts: string[] | undefined;
  let paths: string[] | undefined;
  for (const term of splitOutsideQuotes(text, '&&')) {
    const match = TERM.exec(term);
    const args = match ? readArguments(match[2]!) : undefined;
    if (!match || !args) return `cannot read ${JSON.stringify(excerpt(term.trim()))}: ${SUPPORTED}`;
    if (typeof args === 'string') return `cannot read ${JSON.stringify(excerpt(term.trim()))}: ${args}`;
    const matcher = match[1]!;
    if (matcher === 'Path') return `Path(...) matches one exact path and berth routes by prefix: use PathPrefix(...)`;
    if (matcher !== 'Host' && matcher !== 'PathPrefix') return `unsupported matcher ${excerpt(matcher)}(...): ${SUPPORTED}`;
    if ((matcher === 'Host' ? hosts : paths) !== undefined) return `${matcher}(...) appears twice in one && group`;
    if (matcher === 'Host') hosts = args;
    else paths = args;
  }
  const routes: RuleRoute[] = [];
  for (const host of hosts ?? [undefined]) {
    for (const path of paths ?? [undefined]) {
      const parts = [host !== undefined ? `Host(\`${host}\`)` : '', path !== undefined ? `PathPrefix(\`${path}\`)` : ''];
      const route: RuleRoute = { source: parts.filter(Boolean).join(' && ') };
      if (host !== undefined) route.host = host;
      if (path !== undefined) route.path = path;
      routes.push(route);
    }
  }
  return routes;
}

export function parseTraefikRule(rule: string): RuleResult {
  // Parentheses and `!` are not part of the grammar below, so such rules fail as unreadable terms.
  const routes: RuleRoute[] = [];
  for (const alternative of splitOutsideQuotes(rule, '||')) {
    const result = readConjunction(alternative);
    if (typeof result === 'string') return { ok: false, message: result };
    routes.push(...result);
  }
  return { ok: true, routes };
}

/**
 * `text` split at each `separator` that is not inside a quoted value: splitting the whole
 * rule refused a valid ``PathPrefix(`/a&&b`)`` as two unreadable terms. A quote left open
 * keeps the rest of the text in one piece, which then fails as an unreadable term.
 */
export function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== '') {
      if (quote === '"' && c === '\\') i++; // an escaped character, a quote among them
      else if (c === quote) quote = '';
    } else if (c === '`' || c === '"') quote = c;
    else if (text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      i += separator.length - 1;
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The part of a rule an error quotes: enough to find it, never the whole of a huge one (a 100,000-character rule was echoed whole). */
function excerpt(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
