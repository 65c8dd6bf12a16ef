// berth's test app: a plain-JS HTTP + WebSocket server with no npm dependencies.
// It runs FROM scratch with the machine's own node binary (see scripts/build-test-images.sh)
// and gives the integration tests a backend whose every behaviour can be asked for.
//
// Endpoints (any method unless noted):
//   GET  /ping                 "pong" (text/plain)
//   /echo, and any other path  JSON {method, path, url, query, headers, body, hostname}
//   GET  /env                  JSON of process.env
//   GET  /file?path=P          the content of file P (application/octet-stream), its permission
//                              bits in x-file-mode (octal) and owner in x-file-uid; 404 if missing
//   /write?path=P&data=D       writes D (text) to file P, making its directory; JSON {wrote: bytes}
//   GET  /slow?ms=N            waits N ms, then 200 JSON {slept: N}
//   /status/N                  answers with status N (200..599), JSON {status: N}
//   GET  /healthz              200 "ok" once ready, 503 "starting" before (READY_DELAY_MS),
//                              500 "sick" after /sick (health-check tests)
//   GET  /sick                 makes /healthz answer 500 from now on (until the process restarts)
//   GET  /stream?chunks=N&ms=M N chunks ("chunk i\n"), M ms apart, chunked encoding
//   POST /upload               counts the body: JSON {bytes, sha256}
//   GET  /exit?code=N          answers JSON {exiting: N}, then exits with N (default 3)
//   GET  /ws                   WebSocket echo (RFC 6455: text, binary, fragments, ping, close)
//
// Environment:
//   PORT               port to listen on (default 8080)
//   STARTUP_DELAY_MS   wait this long before listening at all
//   READY_DELAY_MS     listen at once, but /healthz answers 503 until this has passed
//   EXIT_ON_START=N    exit immediately with code N (crash-on-start tests)
//   EXIT_ON_REQUEST    "1": answer the first request (other than /healthz), then exit(3);
//                      "drop": on that request exit(3) without answering (connection reset)
//   LOG_REQUESTS=1     log one line per request to stdout
// SIGTERM and SIGINT make it exit at once (it runs under docker's --init).
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

const env = process.env;
const port = Number(env.PORT || 8080);
const startupDelay = Number(env.STARTUP_DELAY_MS || 0);
const readyDelay = Number(env.READY_DELAY_MS || 0);
const exitOnRequest = env.EXIT_ON_REQUEST || '';
const logRequests = env.LOG_REQUESTS === '1';
let sick = false;
const MAX_WS_MESSAGE = 64 * 1024 * 1024;

if (env.EXIT_ON_START !== undefined && env.EXIT_ON_START !== '') {
  console.error(`test app: EXIT_ON_START=${env.EXIT_ON_START}, exiting`);
  process.exit(Number(env.EXIT_ON_START));
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.log(`test app: ${signal}, exiting`);
    process.exit(0);
  });
}

let readyAt = Infinity;
let exitArmed = exitOnRequest === '1' || exitOnRequest === 'drop';

// ---------------------------------------------------------------------------------------
// HTTP

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// Repeated keys become arrays, so ?a=1&a=2 is {a: ["1", "2"]}.
function queryObject(searchParams) {
  const query = {};
  for (const [key, value] of searchParams) {
    const prev = query[key];
    query[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return query;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function echo(req, res, url) {
  const body = await readBody(req);
  sendJson(res, 200, {
    method: req.method,
    path: url.pathname,
    url: req.url,
    query: queryObject(url.searchParams),
    headers: req.headers,
    body: body.toString('utf8'),
    hostname: hostname(),
  });
}

function slow(req, res, url) {
  const ms = Math.max(0, Number(url.searchParams.get('ms') || 1000));
  const timer = setTimeout(() => sendJson(res, 200, { slept: ms }), ms);
  res.on('close', () => clearTimeout(timer));
}

function status(res, url) {
  const code = Number(url.pathname.slice('/status/'.length));
  if (!Number.isInteger(code) || code < 200 || code > 599) return sendText(res, 400, 'status must be 200..599\n');
  if (code === 204 || code === 304) {
    res.writeHead(code);
    return res.end();
  }
  sendJson(res, code, { status: code });
}

function stream(res, url) {
  const chunks = Math.max(0, Number(url.searchParams.get('chunks') || 5));
  const ms = Math.max(0, Number(url.searchParams.get('ms') || 100));
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }); // no length: chunked
  let i = 0;
  const next = () => {
    if (i >= chunks) return res.end();
    res.write(`chunk ${i++}\n`);
    timer = setTimeout(next, ms);
  };
  let timer = setTimeout(next, 0);
  res.on('close', () => clearTimeout(timer));
}

function upload(req, res) {
  let bytes = 0;
  const hash = createHash('sha256');
  req.on('data', (c) => {
    bytes += c.length;
    hash.update(c);
  });
  req.on('end', () => sendJson(res, 200, { bytes, sha256: hash.digest('hex') }));
}

async function file(res, url) {
  const path = url.searchParams.get('path') || '';
  try {
    const [content, info] = await Promise.all([readFile(path), stat(path)]);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': content.length,
      'x-file-mode': (info.mode & 0o7777).toString(8),
      'x-file-uid': String(info.uid),
    });
    res.end(content);
  } catch (err) {
    sendText(res, err.code === 'ENOENT' ? 404 : 500, `${err.message}\n`);
  }
}

async function write(res, url) {
  const path = url.searchParams.get('path') || '';
  const data = url.searchParams.get('data') ?? '';
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
    sendJson(res, 200, { wrote: Buffer.byteLength(data) });
  } catch (err) {
    sendText(res, 500, `${err.message}\n`);
  }
}

function exitAfter(res, code) {
  res.on('finish', () => setImmediate(() => process.exit(code)));
}

async function handle(req, res) {
  const url = new URL(req.url || '/', 'http://app.invalid');
  const path = url.pathname;
  if (logRequests) console.log(`${req.method} ${req.url}`);

  if (path === '/healthz') {
    if (sick) return sendText(res, 500, 'sick\n');
    return Date.now() >= readyAt ? sendText(res, 200, 'ok\n') : sendText(res, 503, 'starting\n');
  }
  if (path === '/sick') {
    sick = true;
    return sendText(res, 200, 'sick from now on\n');
  }
  if (exitArmed) {
    exitArmed = false;
    if (exitOnRequest === 'drop') {
      console.error('test app: EXIT_ON_REQUEST=drop, exiting without answering');
      process.exit(3);
    }
    console.error('test app: EXIT_ON_REQUEST=1, exiting after this answer');
    exitAfter(res, 3);
  }

  if (path === '/ping') return sendText(res, 200, 'pong');
  if (path === '/env') return sendJson(res, 200, env);
  if (path === '/file') return file(res, url);
  if (path === '/write') return write(res, url);
  if (path === '/slow') return slow(req, res, url);
  if (path.startsWith('/status/')) return status(res, url);
  if (path === '/stream') return stream(res, url);
  if (path === '/upload' && req.method === 'POST') return upload(req, res);
  if (path === '/ws') return sendText(res, 426, 'use a WebSocket upgrade\n');
  if (path === '/exit') {
    const code = Number(url.searchParams.get('code') ?? 3);
    exitAfter(res, code);
    return sendJson(res, 200, { exiting: code });
  }
  return echo(req, res, url);
}

// ---------------------------------------------------------------------------------------
// WebSocket (RFC 6455), by hand: the image has no node_modules.

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

function rejectUpgrade(socket, status, reason) {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

function acceptUpgrade(req, socket, head) {
  const path = new URL(req.url || '/', 'http://app.invalid').pathname;
  const key = req.headers['sec-websocket-key'];
  if (path !== '/ws') return rejectUpgrade(socket, 404, 'Not Found');
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket' || !key) {
    return rejectUpgrade(socket, 400, 'Bad Request');
  }
  if (req.headers['sec-websocket-version'] !== '13') {
    return socket.end('HTTP/1.1 426 Upgrade Required\r\nsec-websocket-version: 13\r\ncontent-length: 0\r\n\r\n');
  }
  const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
  const lines = ['HTTP/1.1 101 Switching Protocols', 'upgrade: websocket', 'connection: Upgrade', `sec-websocket-accept: ${accept}`];
  // Echo the first offered subprotocol, so proxies can be checked to pass it through.
  const protocol = req.headers['sec-websocket-protocol'];
  if (protocol) lines.push(`sec-websocket-protocol: ${protocol.split(',')[0].trim()}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  socket.setNoDelay(true);
  new WsEchoSession(socket).feed(head);
}

// Server frames are never masked.
function encodeFrame(opcode, payload, fin = true) {
  const len = payload.length;
  const lenBytes = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lenBytes);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (lenBytes === 0) header[1] = len;
  else if (lenBytes === 2) {
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

class WsEchoSession {
  constructor(socket) {
    this.socket = socket;
    this.chunks = []; // unparsed input, kept as a list so large messages are not re-copied
    this.buffered = 0;
    this.message = null; // {opcode, parts, size} while a fragmented message is arriving
    this.closed = false;
    socket.on('data', (d) => this.feed(d));
    socket.on('error', () => socket.destroy());
    // Backpressure: stop reading while the echo cannot be written.
    socket.on('drain', () => socket.resume());
  }

  feed(data) {
    if (!data || data.length === 0 || this.closed) return;
    this.chunks.push(data);
    this.buffered += data.length;
    while (!this.closed && this.parseFrame());
  }

  take(n) {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  peek(n) {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0];
  }

  // Parses one frame if a whole one is buffered; returns whether it did.
  parseFrame() {
    if (this.buffered < 2) return false;
    let b = this.peek(2);
    const fin = (b[0] & 0x80) !== 0;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (this.buffered < 4) return false;
      b = this.peek(4);
      len = b.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (this.buffered < 10) return false;
      b = this.peek(10);
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(MAX_WS_MESSAGE)) return this.fail(1009, 'message too big');
      len = Number(big);
      offset = 10;
    }
    if (!masked) return this.fail(1002, 'client frames must be masked');
    if (this.buffered < offset + 4 + len) return false;
    const frame = this.take(offset + 4 + len);
    const mask = frame.subarray(offset, offset + 4);
    const payload = Buffer.from(frame.subarray(offset + 4));
    for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    this.onFrame(fin, opcode, payload);
    return true;
  }

  onFrame(fin, opcode, payload) {
    switch (opcode) {
      case OP.PING:
        return this.send(OP.PONG, payload);
      case OP.PONG:
        return;
      case OP.CLOSE:
        return this.onClose(payload);
      case OP.TEXT:
      case OP.BINARY:
        if (this.message) return this.fail(1002, 'new message inside a fragmented one');
        this.message = { opcode, parts: [], size: 0 };
        return this.onData(fin, payload);
      case OP.CONT:
        if (!this.message) return this.fail(1002, 'continuation without a message');
        return this.onData(fin, payload);
      default:
        return this.fail(1002, `unknown opcode ${opcode}`);
    }
  }

  onData(fin, payload) {
    const m = this.message;
    m.parts.push(payload);
    m.size += payload.length;
    if (m.size > MAX_WS_MESSAGE) return this.fail(1009, 'message too big');
    if (!fin) return;
    this.message = null;
    const data = Buffer.concat(m.parts, m.size);
    if (m.opcode === OP.TEXT) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(data);
      } catch {
        return this.fail(1007, 'text message is not UTF-8');
      }
    }
    this.send(m.opcode, data);
  }

  onClose(payload) {
    // Echo the peer's status code (the first two bytes), then end the TCP connection.
    this.send(OP.CLOSE, payload.subarray(0, 2));
    this.closed = true;
    this.socket.end();
  }

  fail(code, reason) {
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.send(OP.CLOSE, payload);
    this.closed = true;
    this.socket.end();
    return false;
  }

  send(opcode, payload) {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (!this.socket.write(encodeFrame(opcode, payload))) this.socket.pause();
  }
}

// ---------------------------------------------------------------------------------------

function listen() {
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.on('upgrade', acceptUpgrade);
  server.listen(port, () => {
    readyAt = Date.now() + readyDelay;
    // The actual port, so PORT=0 works when the app runs on the host (test/unit/test-app.test.ts).
    console.log(`test app: listening on :${server.address().port} (ready in ${readyDelay} ms) on ${hostname()}`);
  });
}

setTimeout(listen, startupDelay);
