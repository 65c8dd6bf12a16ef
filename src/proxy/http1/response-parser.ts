/**
 * An incremental HTTP/1.1 response parser for the proxy's upstream side (RFC
 * 9112): the status line and headers, then the body framed by Content-Length,
 * chunked coding or the connection's close. It is strict where leniency lets a
 * response be read two ways (request smuggling's other half): two different
 * Content-Length values, Content-Length beside Transfer-Encoding, a header line
 * without a colon, obsolete line folding, control characters in a value, a
 * status that is not three digits: each is a BadUpstreamResponseError, so the
 * client gets a 502 and the connection is never reused.
 *
 * No I/O: `execute` is fed the bytes as they arrive and calls the sink. Body
 * chunks are views of the bytes given (no copy). Interim 1xx responses are
 * read and dropped, as RFC 9110 §15.2 allows a client, but for 103 Early Hints,
 * handed to a sink that relays them (see ResponseSink.onEarlyHints); a 101 on a
 * plain request is an error (WebSockets do not come this way).
 */

import { HOP_BY_HOP } from '../forwarded-headers.js';
import { lowerHeaderName } from '../header-name.js';

/** The app's response cannot be relayed as it is (classified as the app's 502). */
export class BadUpstreamResponseError extends Error {
  readonly code = 'bad_upstream_response';
}

export type ResponseHeaders = Record<string, string | string[]>;

export interface ResponseSink {
  onHead(status: number, statusText: string, headers: ResponseHeaders): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
  /**
   * A 103 Early Hints came before the final head (possibly several): its end-to-end fields, as
   * onHead's. One whose fields are malformed is dropped (hints are only hints), never a 502.
   */
  onEarlyHints?(headers: ResponseHeaders): void;
}

/** Node's own bound on a message head (--max-http-header-size); nginx stops at 8 KiB. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line with its extensions; nobody sends more. */
const MAX_CHUNK_LINE = 4096;
/** The blank line after a head, as a buffer: a string needle is encoded again at every search. */
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** 103 Early Hints heads relayed per response; a browser acts on the first, servers send one or two. */
export const MAX_EARLY_HINTS = 4;
/** 13 hex digits: 2^52, within the integers a number holds exactly. */
const MAX_CHUNK_DIGITS = 13;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

export class ResponseParser {
  private state = State.Done;
  private noBody = false;
  /** Head (or chunk line, or trailer) bytes seen in an earlier read, waiting for the rest. */
  private pending: Buffer | undefined;
  private remaining = 0;
  private trailerBytes = 0;
  /** 103 heads of this response handed to the sink (at most MAX_EARLY_HINTS). */
  private hintsRelayed = 0;
  /** The app said it keeps the connection open after this response. */
  keepAlive = false;
  /** The app's Keep-Alive `timeout=` in ms (0: none given). */
  keepAliveHintMs = 0;
  /** Bytes came after the end of the response: the connection cannot be trusted again. */
  leftover = false;
  /** Any byte of the response arrived (a reused connection that failed before is safe to retry). */
  received = false;

  constructor(private readonly sink: ResponseSink, private readonly maxHeadBytes = MAX_HEAD_BYTES) {}

  /** Expects a new response; `noBody` for a HEAD request. */
  begin(noBody: boolean): void {
    this.state = State.Head;
    this.noBody = noBody;
    this.pending = undefined;
    this.keepAlive = false;
    this.keepAliveHintMs = 0;
    this.leftover = false;
    this.received = false;
    this.trailerBytes = 0;
    this.hintsRelayed = 0;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** No final response head yet (interim 1xx aside). */
  get awaitingHead(): boolean {
    return this.state === State.Head;
  }

  /** The response's body runs until the connection closes. */
  get untilClose(): boolean {
    return this.state === State.UntilClose;
  }

  /** Feeds bytes; throws BadUpstreamResponseError. The sink may be called several times. */
  execute(data: Buffer): void {
    if (data.length === 0) return;
    this.received = true;
    let at = 0;
    while (at < data.length) {
      switch (this.state) {
        case State.Done:
          this.leftover = true;
          return;
        case State.Head:
          at = this.readHead(data, at);
          break;
        case State.Length: {
          const n = Math.min(this.remaining, data.length - at);
          this.remaining -= n;
          const chunk = at === 0 && n === data.length ? data : data.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) this.state = State.Done;
          this.sink.onBody(chunk);
          if (this.state === State.Done) this.sink.onEnd();
          break;
        }
        case State.UntilClose:
          this.sink.onBody(at === 0 ? data : data.subarray(at));
          return;
        case State.ChunkSize:
          at = this.readChunkSize(data, at);
          break;
        case State.ChunkData: {
          const n = Math.min(this.remaining, data.length - at);
          this.remaining -= n;
          const chunk = data.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          this.sink.onBody(chunk);
          break;
        }
        case State.ChunkDataEnd:
          // The CRLF after a chunk's data, possibly split over two reads.
          if (data[at] !== (this.remaining === 2 ? 0x0d : 0x0a)) throw new BadUpstreamResponseError('the app sent a chunk without its CRLF ending');
          at++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        case State.Trailers:
          at = this.readTrailers(data, at);
          break;
      }
    }
  }

  /** The connection closed: true when that ends the response (a body read until close). */
  closed(): boolean {
    if (this.state !== State.UntilClose) return this.state === State.Done;
    this.state = State.Done;
    this.sink.onEnd();
    return true;
  }

  private readHead(data: Buffer, at: number): number {
    let buf = data;
    let start = at;
    if (this.pending) {
      // The earlier part, plus up to 3 bytes of it again: the blank line may straddle reads.
      buf = Buffer.concat([this.pending, data.subarray(at)]);
      start = 0;
    }
    const end = buf.indexOf(HEAD_END, Math.max(start, this.pending ? this.pending.length - 3 : start));
    if (end < 0) {
      if (buf.length - start > this.maxHeadBytes) throw new BadUpstreamResponseError(`the app's response head is larger than ${this.maxHeadBytes} bytes`);
      // A head of lines ended by a bare LF never has its CRLFCRLF: refused now (its parse would refuse any
      // bare LF anyway), not held until the response bound answers 504 for an app that did answer.
      if (hasBareLf(buf, this.pending ? this.pending.length : start)) throw new BadUpstreamResponseError('the app ended a line of its response head with a bare LF, not CRLF');
      this.pending = start === 0 ? buf : buf.subarray(start);
      // Copied: the socket's buffer may be reused once this read is handled.
      if (this.pending === data || this.pending.buffer === data.buffer) this.pending = Buffer.from(this.pending);
      return data.length;
    }
    if (end + 4 - start > this.maxHeadBytes) throw new BadUpstreamResponseError(`the app's response head is larger than ${this.maxHeadBytes} bytes`);
    const consumedFromData = this.pending ? end + 4 - this.pending.length : end + 4 - at;
    this.pending = undefined;
    this.parseHead(buf.toString('latin1', start, end));
    return at + consumedFromData;
  }

  private parseHead(text: string): void {
    const lineEnd = text.indexOf('\r\n');
    const statusLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
    const { status, statusText, http10 } = parseStatusLine(statusLine);
    if (status < 200) {
      // 101 is an upgrade nobody asked for here; other 1xx are interim and skipped.
      if (status === 101) throw new BadUpstreamResponseError('the app switched protocols on a plain request');
      // Its fields are skipped, not parsed, so nothing else refuses a bare LF or CR in them: a reader that ends
      // lines at an LF (RFC 9112 §2.2 allows it) ends this head at `\n\n` and reads what follows as the final
      // answer, while berth would skip that answer with the interim head and take the app's next one for it.
      if (hasBareLineBreak(text)) throw new BadUpstreamResponseError('the app ended a line of an interim (1xx) head with a bare LF or CR, not CRLF');
      // Early hints go on to the client (its browser preloads while the app works), as nginx and
      // Envoy relay them. The rest are dropped: berth's server answered the client's Expect itself
      // (a hop-by-hop field, never forwarded), and 102 is obsolete (RFC 9110 left it out).
      // A few per response: an app that sends hints without end must not fill a client that reads slowly.
      if (status === 103 && this.sink.onEarlyHints !== undefined && this.hintsRelayed++ < MAX_EARLY_HINTS) {
        const hints = interimFields(text, lineEnd < 0 ? text.length : lineEnd + 2);
        if (hints !== undefined) this.sink.onEarlyHints(hints);
      }
      this.state = State.Head;
      return;
    }
    // A plain object (fast properties, as writeHead iterates it); `__proto__` is never a header.
    const headers: ResponseHeaders = {};
    let contentLength = -1;
    let transferEncoding: string | undefined;
    let connection: string | undefined;
    let keepAliveHeader: string | undefined;
    let contentLengthValue: string | undefined;
    let at = lineEnd < 0 ? text.length : lineEnd + 2;
    while (at < text.length) {
      let next = text.indexOf('\r\n', at);
      if (next < 0) next = text.length;
      const colon = text.indexOf(':', at);
      if (colon < 0 || colon >= next) throw new BadUpstreamResponseError('the app sent a header line without a colon');
      const rawName = text.slice(at, colon);
      if (!isToken(rawName)) {
        const why = rawName.length > 0 && (rawName.charCodeAt(0) === 0x20 || rawName.charCodeAt(0) === 0x09) ? 'a folded header line' : `an invalid header name`;
        throw new BadUpstreamResponseError(`the app sent ${why}`);
      }
      const value = headerValue(text, colon + 1, next);
      const name = lowerHeaderName(rawName);
      at = next + 2;
      if (name === 'content-length') {
        contentLength = mergeContentLength(contentLength, value);
        // Relayed once, as one number (below): two fields or a list break clients.
        if (contentLengthValue === undefined) contentLengthValue = value;
        continue;
      } else if (name === 'transfer-encoding') {
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
      } else if (name === 'connection') {
        connection = connection === undefined ? value : `${connection}, ${value}`;
      } else if (name === 'keep-alive') {
        keepAliveHeader = value;
      }
      if (HOP_BY_HOP.has(name) || name === '__proto__') continue;
      const prior = headers[name];
      // Not `prior === undefined`: `constructor`, `toString`... find Object.prototype's functions.
      if (typeof prior === 'string') headers[name] = [prior, value];
      else if (typeof prior === 'object') prior.push(value);
      else headers[name] = value;
    }
    // Never on a 204: a server must not send it there (RFC 9110 §8.6), and berth is the client's server.
    if (contentLengthValue !== undefined && status !== 204) headers['content-length'] = digitsValue(contentLengthValue) >= 0 ? contentLengthValue : String(contentLength);
    if (connection !== undefined) dropConnectionNamed(headers, connection);
    this.keepAlive = !http10 && !hasToken(connection, 'close');
    if (this.keepAlive && keepAliveHeader !== undefined) {
      const hint = keepAliveTimeoutMs(keepAliveHeader);
      if (hint < 0) this.keepAlive = false;
      else this.keepAliveHintMs = hint;
    }
    if (transferEncoding !== undefined && contentLength >= 0) {
      throw new BadUpstreamResponseError('the app sent both Content-Length and Transfer-Encoding');
    }
    // The sink may learn the head before the framing is settled: it only matters for the body.
    if (this.noBody || status === 204 || status === 304) {
      this.state = State.Done;
    } else if (transferEncoding !== undefined) {
      // Transfer-Encoding is hop-by-hop, so the client never sees it: a coding besides chunked
      // (`gzip, chunked`, or `gzip` read until the close, RFC 9112 §6.3) would reach it still
      // applied and unannounced, a corrupt body. As nginx does, only `chunked` alone is relayed.
      if (!isChunkedAlone(transferEncoding)) throw new BadUpstreamResponseError(`the app sent a transfer coding berth cannot relay (Transfer-Encoding: ${transferEncoding.slice(0, 60)})`);
      this.state = State.ChunkSize;
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? State.Done : State.Length;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    this.sink.onHead(status, statusText, headers);
    if (this.state === State.Done) this.sink.onEnd();
  }

  private readChunkSize(data: Buffer, at: number): number {
    const lf = data.indexOf(0x0a, at);
    if (lf < 0) {
      this.pending = this.pending ? Buffer.concat([this.pending, data.subarray(at)]) : Buffer.from(data.subarray(at));
      if (this.pending.length > MAX_CHUNK_LINE) throw new BadUpstreamResponseError('the app sent an overlong chunk-size line');
      return data.length;
    }
    let line = data.toString('latin1', at, lf);
    if (this.pending) {
      line = this.pending.toString('latin1') + line;
      this.pending = undefined;
    }
    if (line.length > MAX_CHUNK_LINE) throw new BadUpstreamResponseError('the app sent an overlong chunk-size line');
    const size = parseChunkSize(line);
    if (size === 0) {
      this.state = State.Trailers;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return lf + 1;
  }

  /** Trailer fields are read and dropped (the client's response is already under way without them). */
  private readTrailers(data: Buffer, at: number): number {
    while (at < data.length) {
      const lf = data.indexOf(0x0a, at);
      const upTo = lf < 0 ? data.length : lf + 1;
      this.trailerBytes += upTo - at;
      if (this.trailerBytes > this.maxHeadBytes) throw new BadUpstreamResponseError(`the app's trailers are larger than ${this.maxHeadBytes} bytes`);
      if (lf < 0) {
        this.pending = this.pending ? Buffer.concat([this.pending, data.subarray(at)]) : Buffer.from(data.subarray(at));
        return data.length;
      }
      const lineLength = (this.pending?.length ?? 0) + (lf - at);
      // An empty line (CRLF alone) ends the message; a one-byte field line does not.
      const blank = lineLength === 0 || (lineLength === 1 && (lf > at ? data[at] : this.pending![0]) === 0x0d);
      this.pending = undefined;
      at = lf + 1;
      if (blank) {
        this.state = State.Done;
        this.sink.onEnd();
        return at;
      }
    }
    return at;
  }
}

/** `HTTP/1.1 200 OK`: the version, three digits, the reason phrase. */
export function parseStatusLine(line: string): { status: number; statusText: string; http10: boolean } {
  if (line.length < 12 || !line.startsWith('HTTP/1.') || line.charCodeAt(8) !== 0x20) {
    throw new BadUpstreamResponseError(`the app did not answer with an HTTP/1 status line (${JSON.stringify(line.slice(0, 40))})`);
  }
  const minor = line.charCodeAt(7);
  if (minor !== 0x30 && minor !== 0x31) throw new BadUpstreamResponseError(`the app answered in an unsupported HTTP version (${line.slice(0, 8)})`);
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = line.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw new BadUpstreamResponseError(`the app answered with a status that is not three digits (${JSON.stringify(line.slice(9, 16))})`);
    status = status * 10 + d;
  }
  if (line.length > 12 && line.charCodeAt(12) !== 0x20) throw new BadUpstreamResponseError(`the app answered with a status that is not three digits (${JSON.stringify(line.slice(9, 16))})`);
  // RFC 9110 §15 defines 1xx to 5xx only; a client could not make sense of more.
  if (status < 100 || status > 599) throw new BadUpstreamResponseError(`the app answered with status ${status}, which is not an HTTP status`);
  const statusText = line.length > 13 ? line.slice(13) : '';
  for (let i = 0; i < statusText.length; i++) {
    const c = statusText.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new BadUpstreamResponseError('the app sent a control character in its status line');
  }
  return { status, statusText, http10: minor === 0x30 };
}

/** An LF at or after `from` that does not follow a CR (the bytes before `from` were looked at already). */
function hasBareLf(buf: Buffer, from: number): boolean {
  for (let lf = buf.indexOf(0x0a, from); lf >= 0; lf = buf.indexOf(0x0a, lf + 1)) if (lf === 0 || buf[lf - 1] !== 0x0d) return true;
  return false;
}

/** An LF not after a CR, or a CR not before an LF, in a head's text (its blank line left out). */
function hasBareLineBreak(text: string): boolean {
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) if (i === 0 || text.charCodeAt(i - 1) !== 0x0d) return true;
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) if (text.charCodeAt(i + 1) !== 0x0a) return true;
  return false;
}

/** The value between `from` and `to`, without surrounding spaces and tabs; control characters refused. */
function headerValue(text: string, from: number, to: number): string {
  while (from < to && (text.charCodeAt(from) === 0x20 || text.charCodeAt(from) === 0x09)) from++;
  while (to > from && (text.charCodeAt(to - 1) === 0x20 || text.charCodeAt(to - 1) === 0x09)) to--;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new BadUpstreamResponseError('the app sent a control character in a header value');
  }
  return text.slice(from, to);
}

/**
 * The end-to-end fields of an interim head from `at`, or undefined when a line is malformed
 * (no colon, a name that is not a token, a control character in a value): as strict as a final
 * head, since they reach the client, but such a head is dropped rather than failing the answer.
 */
function interimFields(text: string, at: number): ResponseHeaders | undefined {
  const headers: ResponseHeaders = {};
  while (at < text.length) {
    let next = text.indexOf('\r\n', at);
    if (next < 0) next = text.length;
    const colon = text.indexOf(':', at);
    if (colon < 0 || colon >= next || !isToken(text.slice(at, colon))) return undefined;
    const name = lowerHeaderName(text.slice(at, colon));
    let value: string;
    try {
      value = headerValue(text, colon + 1, next);
    } catch {
      return undefined;
    }
    at = next + 2;
    if (HOP_BY_HOP.has(name) || name === 'content-length' || name === '__proto__') continue;
    const prior = headers[name];
    if (typeof prior === 'string') headers[name] = [prior, value];
    else if (typeof prior === 'object') prior.push(value);
    else headers[name] = value;
  }
  return headers;
}

/** Content-Length, once or repeated with the same value (RFC 9110 §8.6); anything else is refused. */
function mergeContentLength(prior: number, value: string): number {
  const plain = digitsValue(value);
  if (plain >= 0) {
    if (prior >= 0 && plain !== prior) throw new BadUpstreamResponseError('the app sent two different Content-Length values');
    return plain;
  }
  let result = prior;
  for (const part of value.split(',')) {
    const digits = part.trim();
    if (!/^\d{1,15}$/.test(digits)) throw new BadUpstreamResponseError(`the app sent an invalid Content-Length (${JSON.stringify(value.slice(0, 40))})`);
    const n = Number(digits);
    if (result >= 0 && n !== result) throw new BadUpstreamResponseError('the app sent two different Content-Length values');
    result = n;
  }
  return result;
}

/** The value of 1 to 15 decimal digits, or -1 for anything else (the common case, without a regex). */
function digitsValue(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** A chunk-size line: hex digits, optionally extensions after `;` (ignored), then CRLF. */
export function parseChunkSize(line: string): number {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--;
  else throw new BadUpstreamResponseError('the app sent a chunk-size line without CRLF');
  let size = 0;
  let digits = 0;
  let i = 0;
  for (; i < end; i++) {
    const c = line.charCodeAt(i);
    const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (v < 0) break;
    size = size * 16 + v;
    digits++;
  }
  if (digits === 0 || digits > MAX_CHUNK_DIGITS) throw new BadUpstreamResponseError(`the app sent an invalid chunk size (${JSON.stringify(line.slice(0, 20))})`);
  while (i < end && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
  if (i < end && line.charCodeAt(i) !== 0x3b) throw new BadUpstreamResponseError(`the app sent an invalid chunk size (${JSON.stringify(line.slice(0, 20))})`);
  for (; i < end; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new BadUpstreamResponseError('the app sent a control character in a chunk extension');
  }
  return size;
}

/** `timeout=5` of a Keep-Alive header, in ms; 0 when absent or unreadable; -1 for `timeout=0` (the app closes once idle: no reuse). */
export function keepAliveTimeoutMs(value: string): number {
  const m = /(?:^|[,;\s])timeout\s*=\s*(\d{1,6})/i.exec(value);
  return m ? Number(m[1]) * 1000 || -1 : 0;
}


/** Removes the fields a Connection header names (`Connection: close` and `keep-alive` name none to remove). */
function dropConnectionNamed(headers: ResponseHeaders, connection: string): void {
  const lower = connection.toLowerCase();
  if (lower === 'close' || lower === 'keep-alive') return;
  for (const token of lower.split(',')) {
    const name = token.trim();
    if (name !== '' && name !== '__proto__') delete headers[name];
  }
}

function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  if (!list.includes(',')) return list.length === token.length && list.toLowerCase() === token;
  return list.split(',').some((t) => t.trim().toLowerCase() === token);
}

/** `chunked`, once, whatever its case and spaces: the one transfer coding relayed. */
function isChunkedAlone(list: string): boolean {
  return list.trim().toLowerCase() === 'chunked';
}

const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(String.fromCharCode(c))) TOKEN[c] = 1;

function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}
