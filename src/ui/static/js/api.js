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

/**
 * What the sign-in form says when a token did not get in. Only a failed fetch means the
 * gateway did not answer: a 429 is the gateway refusing more guesses from this address
 * for a while (a valid token is let through), and its detail says for how long (the
 * body carries no retry time of its own: that is in the Retry-After header).
 */
export function signInMessage(err) {
  if (!(err instanceof ApiError)) return `The gateway did not answer: ${err.message}`;
  if (err.status === 401) return 'That token was refused.';
  if (err.status === 429) return `Refused for now: ${err.message}.`;
  return `The gateway refused the sign-in (${err.status}): ${err.message}`;
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
  const res = await fetchAnswered(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
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

/** Pauses before asking a read again that got no answer at all. */
const READ_RETRY_PAUSES_MS = [200, 1000];

/**
 * fetch, with a read that got no answer at all (a connection cut, or Chromium's
 * ERR_NETWORK_CHANGED, given to every request under way when the host's interfaces
 * change, as Docker's do for each container) asked again after a pause, as a browser
 * asks for a page again. A change (POST, PUT, DELETE) is never sent twice: it may have
 * been applied before its answer was lost.
 */
async function fetchAnswered(path, init) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(path, init);
    } catch (err) {
      if (init.method !== 'GET' || init.signal?.aborted || attempt >= READ_RETRY_PAUSES_MS.length) throw err;
      await new Promise((resolve) => setTimeout(resolve, READ_RETRY_PAUSES_MS[attempt]));
    }
  }
}

/** What readLines shows in place of the part of a line past its `maxLineChars`. */
export const LINE_CUT_MARK = ' … (line cut)';

/**
 * Yields the lines of a streamed body as they arrive (without their line ends). A
 * last line without a newline is yielded when the stream ends. Only each new chunk
 * is searched for line ends, never the whole line so far: an app that writes
 * megabytes without a newline would otherwise have every chunk scan all of it
 * again. With `maxLineChars`, a longer line is yielded cut at that length (with
 * LINE_CUT_MARK) as soon as it is that long, and the rest of it is dropped, so a
 * line that never ends holds no memory and still shows.
 */
export async function* readLines(body, signal, { maxLineChars = Infinity } = {}) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', stop, { once: true });
  const clip = (line) => (line.length > maxLineChars ? line.slice(0, maxLineChars) + LINE_CUT_MARK : line);
  let rest = '';
  // The line being read was already yielded cut; what is left of it is dropped.
  let cut = false;
  // The last chunk ended in \r: a \n first in the next one ends no second line.
  let afterCr = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = afterCr && value.startsWith('\n') ? value.slice(1) : value;
      afterCr = text.endsWith('\r');
      if (text.length === 0) continue;
      const parts = text.split(/\r\n|\r|\n/);
      const last = parts.pop() ?? '';
      for (const part of parts) {
        if (!cut) yield clip(rest + part);
        rest = '';
        cut = false;
      }
      if (cut) continue;
      rest += last;
      if (rest.length > maxLineChars) {
        yield clip(rest);
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
