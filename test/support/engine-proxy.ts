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
 * It also keeps `requests`: every Engine API call relayed, as `POST /containers/ID/unpause`.
 */
export class EngineProxy {
  blackHole = false;
  muteEvents = false;
  /** Chunks of the event stream the engine sent and `muteEvents` kept from berth. */
  eventChunksDropped = 0;
  /** Every request relayed to the engine, in order: method and path, without the API version or query. */
  readonly requests: string[] = [];
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
          for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) this.requests.push(`${m[1]} ${m[2]}`);
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
