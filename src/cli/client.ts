import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { BadRequestError, RuntimeError } from '../errors.js';
import { apiErrorOf, CLIENT_ERROR, transportError } from './api-errors.js';
import { DEFAULT_URL, tokenProblem } from './settings.js';

export interface ClientOptions {
  /** Base URL of the admin listener, e.g. `http://127.0.0.1:8081`; may carry a path prefix. */
  url: string;
  token?: string;
  /** Where the token came from, for error messages (never the token itself). */
  tokenSource?: string;
  /** How long a GET may go without an answer (READ_TIMEOUT_MS); tests shorten it. */
  readTimeoutMs?: number;
}

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON value, or text sent as it is (with `contentType`). */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** Answers to a JSON call that a caller may want to accept instead of failing on, e.g. health's 503. */
export interface RawAnswer<T> {
  status: number;
  body: T;
}

/** A change's answer may take as long as an app's start or drain (POST start, apply, stop); a stream never ends by itself. */
const CALL_TIMEOUT_MS = 10 * 60_000;
/**
 * A read (GET) is answered at once by a working gateway: one that says nothing
 * for this long is stuck or is not berth, and `berth ls` must not hang for the
 * ten minutes a start may take.
 */
export const READ_TIMEOUT_MS = 60_000;
/** A connection not made in this long is not going to be (a black-holed address): undici's default. */
const CONNECT_TIMEOUT_MS = 10_000;

const clientError = (message: string, code: string): Error => Object.assign(new Error(message), { code });

interface Answer {
  statusCode: number;
  body: IncomingMessage;
}

/**
 * The admin API as the CLI uses it: one base URL and one token, JSON in and
 * out, problem answers turned into errors that carry the CLI's exit code, and
 * streams (logs, events) handed over as they arrive.
 */
export class ApiClient {
  // Node's own HTTP client: undici, for the same few calls, cost every CLI command ~0.3 s to load.
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });
  readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    const problem = options.token === undefined ? undefined : tokenProblem(options.token);
    if (problem) throw new BadRequestError(`the token from ${options.tokenSource ?? 'the settings'} ${problem}`);
  }

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const answer = await this.send(method, path, options);
    const text = await this.text(answer.body, this.answerTimeoutMs(method));
    if (answer.statusCode >= 400) throw apiErrorOf(answer.statusCode, text, this.tokenHint(), this.baseUrl);
    if (text === '') return undefined as T;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RuntimeError(`${this.baseUrl} answered ${method} ${path} with something other than JSON; is it a berth admin API (default ${DEFAULT_URL})?`);
    }
    // Every answer of the API is an object: anything else would fail later, deep in a command, as a bug of the CLI.
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new RuntimeError(`${this.baseUrl} answered ${method} ${path} with JSON that is no berth answer (${Array.isArray(parsed) ? 'a list' : parsed === null ? 'null' : `a ${typeof parsed}`}); is it a berth admin API (default ${DEFAULT_URL})?`);
    }
    return parsed as T;
  }

  /** Like call, but returns the status with the body and fails only on transport errors or 401. */
  async raw<T>(method: string, path: string, options: CallOptions = {}): Promise<RawAnswer<T | undefined>> {
    const answer = await this.send(method, path, options);
    const text = await this.text(answer.body, this.answerTimeoutMs(method));
    if (answer.statusCode === 401) throw apiErrorOf(answer.statusCode, text, this.tokenHint(), this.baseUrl);
    let body: T | undefined;
    try {
      body = JSON.parse(text) as T;
    } catch {
      body = undefined;
    }
    return { status: answer.statusCode, body };
  }

  /** A streamed answer (text/plain logs, text/event-stream); ends when the server or `signal` ends it. */
  async stream(path: string, options: CallOptions = {}): Promise<Readable> {
    const answer = await this.send('GET', path, options);
    if (answer.statusCode >= 400) throw apiErrorOf(answer.statusCode, await this.text(answer.body, this.answerTimeoutMs('GET')), this.tokenHint(), this.baseUrl);
    return answer.body;
  }

  async close(): Promise<void> {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  url(path: string, query: CallOptions['query'] = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== false) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** The answer's status and its body, unread; fails on transport errors and on no answer within the method's time. */
  private async send(method: string, path: string, options: CallOptions): Promise<Answer> {
    const headers: Record<string, string | number> = { accept: 'application/json, application/problem+json, text/plain, text/event-stream' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let body: Buffer | undefined;
    if (options.body !== undefined) {
      body = Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = body.length;
    }
    try {
      const url = new URL(this.url(path, options.query));
      const https = url.protocol === 'https:';
      const request = https ? httpsRequest : httpRequest;
      const init: RequestOptions = { method, headers, signal: options.signal, agent: https ? this.httpsAgent : this.httpAgent };
      return await answerOf(request(url, init), body, this.answerTimeoutMs(method));
    } catch (err) {
      throw transportError(err, this.baseUrl);
    }
  }

  private answerTimeoutMs(method: string): number {
    return method === 'GET' ? (this.options.readTimeoutMs ?? READ_TIMEOUT_MS) : CALL_TIMEOUT_MS;
  }

  /** A whole answer's text; a server that stops sending half way, or goes quiet for `idleMs`, is a transport failure, said as such. */
  private async text(body: IncomingMessage, idleMs: number): Promise<string> {
    try {
      return await textOf(body, idleMs);
    } catch (err) {
      throw transportError(err, this.baseUrl);
    }
  }

  private tokenHint(): string {
    return this.options.token ? `token from ${this.options.tokenSource ?? 'the settings'}` : 'no token was given';
  }
}

/** An app name as one URL path segment. */
export function seg(name: string): string {
  return encodeURIComponent(name);
}

/**
 * Sends `req` (with `body`) and resolves with its answer's head: fails when the connection is
 * not made in CONNECT_TIMEOUT_MS, or no head comes in `headersMs`. The body is left unread.
 */
function answerOf(req: ClientRequest, body: Buffer | undefined, headersMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const cut = (message: string, code: string) => req.destroy(clientError(message, code));
    const headers = setTimeout(() => cut('no answer in time', CLIENT_ERROR.headersTimeout), headersMs);
    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      const connect = setTimeout(() => cut('connect timed out', CLIENT_ERROR.connectTimeout), CONNECT_TIMEOUT_MS);
      socket.once('connect', () => clearTimeout(connect));
      socket.once('close', () => clearTimeout(connect));
    });
    req.once('response', (res) => {
      clearTimeout(headers);
      resolve({ statusCode: res.statusCode ?? 0, body: res });
    });
    req.once('error', (err) => {
      clearTimeout(headers);
      reject(err);
    });
    req.end(body);
  });
}

/** All of `res` as UTF-8 text; fails when it breaks off or stays quiet for `idleMs`. */
function textOf(res: IncomingMessage, idleMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => res.destroy(clientError('the answer stopped half way', CLIENT_ERROR.bodyTimeout)), idleMs);
    };
    arm();
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      arm();
    });
    res.once('end', () => {
      clearTimeout(idle);
      resolve(new TextDecoder().decode(Buffer.concat(chunks)));
    });
    res.once('error', (err) => {
      clearTimeout(idle);
      reject(err);
    });
    // Destroyed without an error (the request's signal): never an end, so say it.
    res.once('close', () => {
      clearTimeout(idle);
      if (!res.complete) reject(Object.assign(new Error('the answer broke off'), { code: 'ECONNRESET' }));
    });
  });
}
