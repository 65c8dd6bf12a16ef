import { isIPv6 } from 'node:net';

export interface NormalHost {
  /** For matching: lower case, without port and without one trailing dot (`[::1]` keeps its brackets). */
  readonly host: string;
  /** What the app is sent as Host: `host` plus the port, when one was given. */
  readonly authority: string;
}

export interface HostRefusal {
  status: 400;
  reason: string;
}

/**
 * Checks and normalises a Host value (or an absolute-form authority):
 * `reg-name / IPv4 / [IPv6]`, then an optional `:port` of digits (RFC 9110
 * §7.2, RFC 3986 §3.2.2). Names are held to DNS-like characters (letters,
 * digits, `-`, `.`, `_`, `~`): RFC 3986 also allows sub-delims and escapes in
 * a reg-name, but no routable name has them and they are what breaks log and
 * URL parsers downstream. Empty labels (`a..b`, `.a`) are refused; one
 * trailing dot (the DNS root) is dropped, so `Example.COM.` routes as
 * `example.com`.
 */
export function normalizeHost(value: string): NormalHost | HostRefusal {
  // A client's requests name the same Host again and again (a kept-alive connection's always):
  // the last answer is reused, a string compare instead of slices, a check and a new object.
  if (value === last.value && value !== '') return last.answer;
  const answer = checkHost(value);
  if (!('status' in answer)) {
    last.value = value;
    last.answer = answer;
  }
  return answer;
}

/** The last Host value normalised without refusal ('' before the first), and its answer (shared: NormalHost is read-only). */
const last: { value: string; answer: NormalHost } = { value: '', answer: { host: '', authority: '' } };

function checkHost(value: string): NormalHost | HostRefusal {
  if (value.length === 0) return refuse('the Host header is empty');
  if (value.length > 261) return refuse('the Host header is too long');
  let name: string;
  let rest: string;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const end = value.indexOf(']');
    const inner = end > 0 ? value.slice(1, end) : '';
    // isIPv6 accepts zone ids (`fe80::1%eth0`); they mean nothing past this host.
    if (!isIPv6(inner) || inner.includes('%')) return refuse(`invalid IPv6 literal in Host: ${JSON.stringify(value)}`);
    name = '[' + inner.toLowerCase() + ']';
    rest = value.slice(end + 1);
  } else {
    const colon = value.indexOf(':');
    name = colon < 0 ? value : value.slice(0, colon);
    rest = colon < 0 ? '' : value.slice(colon);
    const checked = checkName(name);
    if (checked === undefined) return refuse(`invalid Host: ${JSON.stringify(value)}`);
    name = checked;
  }
  if (rest.length > 0 && !isPort(rest)) return refuse(`invalid port in Host: ${JSON.stringify(value)}`);
  return { host: name, authority: rest.length > 0 ? name + rest : name };
}

/** The lower-cased name without its trailing dot, or undefined when it is not a valid name. */
function checkName(name: string): string | undefined {
  let end = name.length;
  if (end > 1 && name.charCodeAt(end - 1) === 46 /* . */) end--;
  if (end === 0 || end > 253) return undefined;
  let lower = true;
  let prev = 46; // as if after a dot, so a leading dot is an empty label
  for (let i = 0; i < end; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return undefined;
    if (c === 46 && prev === 46) return undefined;
    if (c >= 65 && c <= 90) lower = false;
    prev = c;
  }
  if (prev === 46) return undefined;
  const trimmed = end === name.length ? name : name.slice(0, end);
  return lower ? trimmed : trimmed.toLowerCase();
}

/** `:` then 1 to 5 digits, at most 65535. */
function isPort(rest: string): boolean {
  if (rest.charCodeAt(0) !== 58 /* : */ || rest.length < 2 || rest.length > 6) return false;
  for (let i = 1; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(rest.slice(1)) <= 65_535;
}

function refuse(reason: string): HostRefusal {
  return { status: 400, reason };
}

const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(c))) NAME_CHAR[c] = 1;
