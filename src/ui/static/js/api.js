// The dashboard's only way to the gateway: the admin API on this same origin, with the
// token the user signed in with. The token lives in sessionStorage, so it is gone when
// the tab closes and never leaves for another origin (the CSP allows 'self' only).

const TOKEN_KEY = 'berth.token';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** A refused call, with the problem+json body the API answered. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `the API answered ${status}`);
    this.status = status;
    this.code = problem?.code;
    this.problem = problem;
  }
}

/** Fired on `window` when the API refuses the token, so the page can ask to sign in again. */
export const UNAUTHORIZED_EVENT = 'berth:unauthorized';

/** Calls the API; JSON in, JSON out. Throws ApiError for any status but 2xx. */
export async function api(path, { method = 'GET', body, signal, token = session.token } = {}) {
  const res = await send(path, { method, body, signal, token, accept: 'application/json' });
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

/** Opens a streaming response (logs, events); the caller reads `res.body`. */
export function openStream(path, { signal, accept = '*/*' } = {}) {
  return send(path, { method: 'GET', signal, token: session.token, accept });
}

async function send(path, { method, body, signal, token, accept }) {
  const headers = { accept };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  if (res.ok) return res;
  let problem;
  try {
    problem = await res.json();
  } catch {
    problem = undefined;
  }
  if (res.status === 401 && token === session.token) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
  throw new ApiError(res.status, problem);
}

/**
 * The longest line kept (characters). An app writes what it likes to its output, a
 * megabyte or an endless stream without a newline: a longer line is cut here and the
 * rest of it skipped up to its newline, so what the page holds stays bounded.
 */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Yields the lines of a streamed body as they arrive (without their line ends). A
 * last line without a newline is yielded when the stream ends. A line longer than
 * `maxChars` is yielded at once cut to that length, `cutMark` after it. Each chunk is
 * scanned once: a long line arriving in many pieces costs no more than its length.
 */
export async function* readLines(body, signal, { maxChars = MAX_LINE_CHARS, cutMark = '' } = {}) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', stop, { once: true });
  let rest = '';
  /** The line under way was cut already: what is left of it is skipped. */
  let cut = false;
  /** The last chunk ended with CR: a LF opening the next one ends no second line. */
  let afterCr = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = afterCr && value.startsWith('\n') ? value.slice(1) : value;
      afterCr = text.endsWith('\r');
      const pieces = text.split(/\r\n|\r|\n/);
      const open = pieces.pop() ?? '';
      for (const piece of pieces) {
        const line = rest + piece;
        if (!cut) yield line.length > maxChars ? line.slice(0, maxChars) + cutMark : line;
        rest = '';
        cut = false;
      }
      if (cut) continue;
      rest += open;
      if (rest.length > maxChars) {
        yield rest.slice(0, maxChars) + cutMark;
        rest = '';
        cut = true;
      }
    }
    if (rest) yield rest;
  } finally {
    signal?.removeEventListener('abort', stop);
    reader.releaseLock();
  }
}

export const appPath = (name, rest = '') => `/v1/apps/${encodeURIComponent(name)}${rest}`;
