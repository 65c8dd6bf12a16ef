import { connect, createServer, type Server, type Socket } from 'node:net';

const ENGINE_SOCKET = '/var/run/docker.sock';

/** The first bytes of an Engine API request for the event stream (`GET /v1.43/events?…`). */
const EVENTS_REQUEST = /^GET (\/v[\d.]+)?\/events[?\s]/;

/** A request line in what a client sent: its method and its path without the API version. */
const REQUEST_LINE = /(?:^|\r\n)(GET|HEAD|POST|PUT|DELETE) (?:\/v[\d.]+)?(\/[^\s?]*)\S* HTTP\/1\.[01]\r\n/g;

/**
 * A unix socket in front of the local engine, to make engine trouble real:
 * - `blackHole`: new connections are accepted and never answered, and the ones
 *   already open stop relaying (Node keeps engine connections alive, so a black
 *   hole that spared them would not be one).
 * - `muteEvents`: the event stream goes deaf, every other call still works: the
 *   events an engine restart loses. A muted event connection stays muted (bytes
 *   were dropped from its stream) and new ones are never answered.
 * - `corrupt`: a call named here (`GET /containers/json`) is answered by the relay
 *   itself with the given raw HTTP response (a proxy's HTML page, a body cut short)
 *   and never reaches the engine (`GET *`: every GET); every other call is relayed.
 * It also keeps `requests`: every Engine API call relayed, as `POST /containers/ID/unpause`.
 */
export class EngineProxy {
  blackHole = false;
  muteEvents = false;
  /** Chunks of the event stream the engine sent and `muteEvents` kept from berth. */
  eventChunksDropped = 0;
  /** Every request relayed to the engine, in order: method and path, without the API version or query. */
  readonly requests: string[] = [];
  /** Calls the relay answers itself, by method and path as in `requests`, with a raw HTTP/1.1 response. */
  readonly corrupt = new Map<string, string>();
  /** Calls answered from `corrupt`, in order. */
  readonly corrupted: string[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor(readonly path: string) {
    this.server = createServer((client) => {
      this.track(client);
      if (this.blackHole) return;
      const engine = connect(ENGINE_SOCKET);
      this.track(engine);
      let events = false;
      let muted = false;
      // Not pipe(): every chunk is looked at, so a connection open before the trouble began suffers it too.
      client.on('data', (chunk: Buffer) => {
        // Any request of a kept-alive connection may be the one that opens the stream.
        events ||= EVENTS_REQUEST.test(chunk.toString('latin1', 0, 64));
        if (events && this.muteEvents) muted = true;
        if (!this.blackHole && !muted) {
          const calls = [...chunk.toString('latin1').matchAll(REQUEST_LINE)].map((m) => `${m[1]} ${m[2]}`);
          // Engine clients send one request at a time on a connection, so a whole chunk is one call.
          const canned = calls.length === 1 ? (this.corrupt.get(calls[0]!) ?? this.corrupt.get(`${calls[0]!.split(' ')[0]} *`)) : undefined;
          if (canned !== undefined) {
            this.corrupted.push(calls[0]!);
            client.write(canned);
            return;
          }
          this.requests.push(...calls);
          engine.write(chunk);
        }
      });
      engine.on('data', (chunk: Buffer) => {
        if (events && this.muteEvents) muted = true;
        if (muted) this.eventChunksDropped++;
        if (!this.blackHole && !muted) client.write(chunk);
      });
      client.on('close', () => engine.destroy());
      engine.on('close', () => client.destroy());
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
