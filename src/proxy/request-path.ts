/**
 * Path normalisation of the proxy listener, after Envoy's edge-proxy settings
 * (`normalize_path`, `merge_slashes`, `path_with_escaped_slashes_action:
 * KEEP_UNCHANGED`): berth routes on the normalised path and sends the app
 * exactly that path, so berth and the app can never read one request two ways.
 *
 * - `%XX` must be two hex digits, and the decoded bytes must be UTF-8, else 400.
 * - Escaped unreserved characters (ALPHA DIGIT - . _ ~) are decoded (RFC 3986
 *   §6.2.2.2); every other escape is kept, in upper case (§6.2.2.1). So `%2F`
 *   and `%5C` never become separators: an app that decodes them sees the
 *   same segment berth routed.
 * - `%00` is refused: C-based servers and file APIs end the string there
 *   (`/a.php%00.jpg`), so the app would not see the path berth routed.
 * - A raw `\` is refused rather than turned into `/`: RFC 3986 does not allow
 *   it, and Windows-style or lenient servers treat it as a separator, which is
 *   a way around prefix routing (`/session/a/..\..\admin`).
 * - Characters RFC 3986 does not allow raw but clients send anyway (`"<>^`{|}`)
 *   are percent-encoded: the same resource, one spelling.
 * - Empty segments are merged (`//` → `/`), then dot segments removed
 *   (§5.2.4, `%2e%2e` included); `..` never climbs above `/`.
 */

export interface PathRefusal {
  status: 400;
  reason: string;
}

/** The normalised path (starting with `/`, without query), or why it cannot be. */
export function normalizePath(raw: string): string | PathRefusal {
  if (raw.charCodeAt(0) !== SLASH) return { status: 400, reason: 'the request path must start with /' };
  // Fast path: nothing to decode, no dot segment, no empty segment, nothing to escape.
  let prev = SLASH;
  for (let i = 1; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 128 || PATH_CHAR[c] !== PLAIN || (prev === SLASH && (c === SLASH || c === DOT))) return slowPath(raw);
    prev = c;
  }
  return raw;
}

function slowPath(raw: string): string | PathRefusal {
  let out = '';
  let nonAscii = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    const kind = c < 128 ? PATH_CHAR[c] : BAD;
    if (kind === PLAIN) {
      out += raw[i];
    } else if (kind === PERCENT) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return { status: 400, reason: `invalid percent-encoding in the request path: ${JSON.stringify(raw.slice(i, i + 3))}` };
      const byte = hi * 16 + lo;
      i += 2;
      if (byte === 0) return { status: 400, reason: 'NUL (%00) in the request path' };
      if (byte < 128 && UNRESERVED[byte] === 1) out += String.fromCharCode(byte);
      else out += escapeByte(byte);
      if (byte >= 128) nonAscii = true;
    } else if (kind === ESCAPE) {
      out += escapeByte(c);
    } else {
      const what = c === BACKSLASH ? 'a backslash' : `character 0x${c.toString(16)}`;
      return { status: 400, reason: `${what} in the request path` };
    }
  }
  if (nonAscii && !isUtf8(out)) return { status: 400, reason: 'the request path is not valid UTF-8 once percent-decoded' };
  return removeDotSegments(out);
}

/** Merges empty segments and removes `.` and `..` (RFC 3986 §5.2.4); keeps a trailing slash. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const kept: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '' || segment === '.') {
      trailingSlash = last;
    } else if (segment === '..') {
      kept.pop();
      trailingSlash = last;
    } else {
      kept.push(segment);
      trailingSlash = false;
    }
  }
  if (kept.length === 0) return '/';
  return '/' + kept.join('/') + (trailingSlash ? '/' : '');
}

function isUtf8(escaped: string): boolean {
  try {
    decodeURIComponent(escaped); // every escape in it is well-formed by now; this throws only on bad UTF-8
    return true;
  } catch {
    return false;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const HEX_DIGITS = '0123456789ABCDEF';

function escapeByte(byte: number): string {
  return '%' + HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
}

const SLASH = 47;
const DOT = 46;
const BACKSLASH = 92;

/** What a raw path character is: kept as is, an escape, to be escaped, or refused. */
const PLAIN = 0;
const PERCENT = 1;
const ESCAPE = 2;
const BAD = 3;

/** By ASCII code: pchar and `/` are PLAIN (RFC 3986 §3.3); `%` starts an escape; controls, space, `\`, `#` and `?` are BAD here. */
const PATH_CHAR = new Uint8Array(128).fill(BAD);
/** ALPHA DIGIT - . _ ~ (RFC 3986 §2.3). */
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
  if (/[A-Za-z0-9\-._~!$&'()*+,;=:@/]/.test(ch)) PATH_CHAR[c] = PLAIN;
  else if (/["<>^`{|}]/.test(ch)) PATH_CHAR[c] = ESCAPE;
}
PATH_CHAR[37] = PERCENT;
