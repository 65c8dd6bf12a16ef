import { connect, type Socket } from 'node:net';

/** One HTTP/1.1 response as read off the wire; `complete` is false when the connection ended inside it. */
export interface RawResponse {
  status: number;
  head: string;
  headers: Record<string, string[]>;
  body: Buffer;
  complete: boolean;
}

/** What a raw client saw: the responses it could parse, and how the exchange ended. */
export interface RawOutcome {
  responses: RawResponse[];
  /** Every byte received. */
  bytes: Buffer;
  /** The peer closed (or reset) the connection. */
  closed: boolean;
  /** Neither the expected responses nor a close came within the time limit. */
  timedOut: boolean;
  /** Bytes that do not parse as an HTTP/1.1 response, with why. */
  malformed?: string;
  /** The client itself reset the connection (a `reset` step ran). */
  clientReset: boolean;
}

/**
 * One step of a raw exchange: bytes to write, a pause, a half-close (`end`), a
 * reset (RST via resetAndDestroy, which ends the exchange at once), or a wait for
 * the first response head (or close) before going on.
 */
export type Step = string | Buffer | { pauseMs: number } | { end: true } | { reset: true } | { waitForHead: true; timeoutMs?: number };

export interface RawOptions {
  /** Overall bound of the exchange after the last step. Default 3000 ms. */
  timeoutMs?: number;
  /** Resolve once this many complete responses arrived (default 1); 0: wait for close or the timeout. */
  responses?: number;
  /** Requests were HEAD: their responses have no body. */
  headRequests?: boolean;
}

/** Runs `steps` on a fresh connection to 127.0.0.1:`port` and reports what came back. Never rejects. */
export function rawExchange(port: number, steps: Step[], options: RawOptions = {}): Promise<RawOutcome> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const wanted = options.responses ?? 1;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let clientReset = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const outcome = (timedOut: boolean): RawOutcome => {
      const bytes = Buffer.concat(chunks);
      const parsed = parseResponses(bytes, closed, options.headRequests ?? false);
      return { responses: parsed.responses, bytes, closed, timedOut, malformed: parsed.malformed, clientReset };
    };
    const settle = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result = outcome(timedOut);
      if (!socket.destroyed) socket.destroy();
      resolve(result);
    };
    const enough = () => {
      if (wanted === 0) return false;
      const parsed = parseResponses(Buffer.concat(chunks), false, options.headRequests ?? false);
      if (parsed.malformed) return true;
      if (parsed.responses.some((r) => r.status === 101)) return true;
      return parsed.responses.filter((r) => r.complete && r.status >= 200).length >= wanted;
    };
    let headWaiter: (() => void) | undefined;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (headWaiter && Buffer.concat(chunks).includes('\r\n\r\n')) headWaiter();
      if (stepsDone && enough()) settle(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      headWaiter?.();
      settle(false);
    });
    let stepsDone = false;
    socket.once('connect', async () => {
      for (const step of steps) {
        if (settled || closed) break;
        if (typeof step === 'string' || Buffer.isBuffer(step)) {
          socket.write(step);
        } else if ('pauseMs' in step) {
          await sleep(step.pauseMs);
        } else if ('end' in step) {
          socket.end();
        } else if ('reset' in step) {
          clientReset = true;
          socket.resetAndDestroy();
          // Give the gateway a moment to see the RST before the caller checks on it.
          await sleep(20);
          closed = true;
          settle(false);
          return;
        } else if ('waitForHead' in step) {
          if (!Buffer.concat(chunks).includes('\r\n\r\n') && !closed) {
            await new Promise<void>((r) => {
              const t = setTimeout(r, step.timeoutMs ?? timeoutMs);
              headWaiter = () => {
                clearTimeout(t);
                headWaiter = undefined;
                r();
              };
            });
          }
        }
      }
      stepsDone = true;
      if (enough()) return settle(false);
      timer = setTimeout(() => settle(true), timeoutMs);
    });
  });
}

/**
 * Parses back-to-back responses. A 101 ends parsing (what follows is another
 * protocol). `eof` says the connection is over, so a body read until close is complete.
 */
export function parseResponses(bytes: Buffer, eof: boolean, headRequests = false): { responses: RawResponse[]; malformed?: string } {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at);
    const start = bytes.subarray(at, Math.min(bytes.length, at + 13)).toString('latin1');
    if (!statusLineStartOk(start)) {
      return { responses, malformed: `not an HTTP/1.x status line: ${JSON.stringify(bytes.subarray(at, at + 40).toString('latin1'))}` };
    }
    if (end < 0) break;
    const head = bytes.subarray(at, end).toString('latin1');
    const lines = head.split('\r\n');
    const status = Number(lines[0]!.slice(9, 12));
    // No prototype: a header named `constructor` is a header like any other.
    const headers: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return { responses, malformed: `bad header line ${JSON.stringify(line.slice(0, 40))}` };
      const name = line.slice(0, colon).toLowerCase();
      (headers[name] ??= []).push(line.slice(colon + 1).trim());
    }
    at = end + 4;
    if (status === 101) {
      responses.push({ status, head, headers, body: bytes.subarray(at), complete: true });
      break;
    }
    if ((status >= 100 && status < 200) || status === 204 || status === 304 || headRequests) {
      responses.push({ status, head, headers, body: Buffer.alloc(0), complete: true });
      continue;
    }
    const te = headers['transfer-encoding']?.join(',').toLowerCase();
    const cl = headers['content-length'];
    if (te?.includes('chunked')) {
      const chunked = readChunked(bytes, at);
      if (chunked === 'malformed') return { responses, malformed: 'bad chunked body' };
      if (!chunked) {
        responses.push({ status, head, headers, body: bytes.subarray(at), complete: false });
        break;
      }
      responses.push({ status, head, headers, body: chunked.body, complete: true });
      at = chunked.next;
    } else if (cl) {
      const length = Number(cl[0]);
      if (!Number.isInteger(length) || length < 0 || cl.some((v) => v !== cl[0])) return { responses, malformed: `bad content-length ${cl.join(',')}` };
      const complete = bytes.length - at >= length;
      responses.push({ status, head, headers, body: bytes.subarray(at, Math.min(bytes.length, at + length)), complete });
      if (!complete) break;
      at += length;
    } else {
      responses.push({ status, head, headers, body: bytes.subarray(at), complete: eof });
      break;
    }
  }
  return { responses };
}

/** Whether `start` (up to 13 bytes) is, or may grow into, `HTTP/1.x NNN ` (or `HTTP/1.x NNN\r`). */
function statusLineStartOk(start: string): boolean {
  const classes = ['H', 'T', 'T', 'P', '/', '1', '.', '01', ' ', 'D', 'D', 'D', ' \r'];
  for (let i = 0; i < start.length; i++) {
    const c = start[i]!;
    const allowed = classes[i]!;
    if (allowed === 'D' ? !(c >= '0' && c <= '9') : !allowed.includes(c)) return false;
  }
  return true;
}

function readChunked(bytes: Buffer, start: number): { body: Buffer; next: number } | 'malformed' | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (let guard = 0; guard < 100_000; guard++) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1').split(';', 1)[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return 'malformed';
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers, then an empty line.
      for (;;) {
        const e = bytes.indexOf('\r\n', at);
        if (e < 0) return undefined;
        const empty = e === at;
        at = e + 2;
        if (empty) return { body: Buffer.concat(parts), next: at };
      }
    }
    if (bytes.length < at + size + 2) return undefined;
    parts.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
  return 'malformed';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A short human description of an outcome, for assertion messages. */
export function describeOutcome(o: RawOutcome): string {
  const statuses = o.responses.map((r) => `${r.status}${r.complete ? '' : '(incomplete)'}`).join(',') || 'no response';
  const flags = [o.closed ? 'closed' : 'open', o.timedOut ? 'TIMED OUT' : '', o.malformed ? `MALFORMED: ${o.malformed}` : ''].filter(Boolean).join(' ');
  return `${statuses}; ${flags}; first bytes ${JSON.stringify(o.bytes.subarray(0, 120).toString('latin1'))}`;
}

/** A valid WebSocket client handshake for `path` (RFC 6455 §4.1). */
export function wsHandshake(path: string, host: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** A masked client text frame carrying `text` (short: under 126 bytes). */
export function wsTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}
