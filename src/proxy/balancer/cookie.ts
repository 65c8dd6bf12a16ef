import type { IncomingMessage } from 'node:http';
import type { BalancerPolicy, Candidate, Selection } from './balancer-policy.js';
import { LeastConnections } from './least-connections.js';

/**
 * How much of an instance id the cookie carries. Docker shows container ids
 * this short, they are unique in practice among one app's instances, and the
 * cookie reveals nothing a client could use: it only names an instance.
 */
const STICKY_ID_LENGTH = 12;

/** RFC 6265 cookie-octet: what may appear in a cookie value without quoting. */
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/;

/**
 * Sticky sessions: a client stays on the instance it was first sent to for as
 * long as that instance is available, which apps holding per-user state in
 * memory (notebooks, tools, demos) need. A client without a valid pin, or whose
 * instance went away or is draining, is placed by least-connections and pinned
 * there with a new cookie.
 */
export class CookieSticky implements BalancerPolicy {
  readonly name = 'cookie' as const;
  readonly needsRequest = true;
  /** `berth_<app>`; each app has its own, so apps behind one host do not clash. */
  readonly cookieName: string;
  private readonly cookieAttributes = '; Path=/; HttpOnly; SameSite=Lax';
  private readonly place = new LeastConnections();

  constructor(app: string) {
    // App names are DNS labels already; this keeps the name a valid cookie token regardless.
    this.cookieName = `berth_${app.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }

  select(candidates: readonly Candidate[], req: IncomingMessage): Selection | undefined {
    const header = req.headers.cookie;
    const pinned = header === undefined ? undefined : readCookie(header, this.cookieName);
    if (pinned !== undefined) {
      for (let i = 0; i < candidates.length; i++) {
        const candidate = candidates[i]!;
        if (candidate.available && isStickyId(pinned, candidate.upstream.instanceId)) return { candidate };
      }
    }
    const selection = this.place.select(candidates);
    if (selection === undefined) return undefined;
    const id = stickyId(selection.candidate.upstream.instanceId);
    // Engine ids are [0-9a-z]; the check keeps any other id from producing a
    // header Node refuses to send. Such an instance is served, just not pinned.
    if (COOKIE_VALUE.test(id)) selection.setCookie = `${this.cookieName}=${id}${this.cookieAttributes}`;
    return selection;
  }
}

/** The part of an instance id a sticky cookie carries. */
export function stickyId(instanceId: string): string {
  return instanceId.slice(0, STICKY_ID_LENGTH);
}

/** Whether `value` is `stickyId(instanceId)`, compared in place without slicing. */
function isStickyId(value: string, instanceId: string): boolean {
  return value.length > 0 && value.length === Math.min(STICKY_ID_LENGTH, instanceId.length) && instanceId.startsWith(value);
}

/**
 * The value of cookie `name` in a Cookie header (`a=1; name=v; b=2`), or
 * undefined. A hand-written scan rather than a parser: it runs on every
 * request and needs one cookie. Tolerates extra whitespace and a quoted value;
 * `xname=` or `a=name=` do not count as `name`. The first occurrence wins, as
 * browsers send the most specific cookie first.
 */
export function readCookie(header: string, name: string): string | undefined {
  for (let at = header.indexOf(name); at >= 0; at = header.indexOf(name, at + 1)) {
    if (!startsPair(header, at)) continue;
    let i = at + name.length;
    while (i < header.length && isSpace(header.charCodeAt(i))) i++;
    if (header.charCodeAt(i) !== 0x3d /* = */) continue;
    let end = header.indexOf(';', i + 1);
    if (end < 0) end = header.length;
    let start = i + 1;
    while (start < end && isSpace(header.charCodeAt(start))) start++;
    while (end > start && isSpace(header.charCodeAt(end - 1))) end--;
    if (end - start >= 2 && header.charCodeAt(start) === 0x22 && header.charCodeAt(end - 1) === 0x22) {
      start++;
      end--;
    }
    return header.slice(start, end);
  }
  return undefined;
}

/** Whether position `at` begins a name=value pair: at the start or after `;` and optional spaces. */
function startsPair(header: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && isSpace(header.charCodeAt(i))) i--;
  return i < 0 || header.charCodeAt(i) === 0x3b; /* ; */
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
